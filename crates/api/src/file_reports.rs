//! `/file-reporting/v1/*`: daily payment and transaction reports, and reports for a period
//! asked for with a report demand, as CSV or XLSX files (raw bytes, no JSON envelope, as
//! Craftgate answers them). The rows come from [`engine::reports`].

use std::collections::HashMap;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use domain::clock::parse_request_datetime;
use engine::reports::{Cell, Report, ReportKind};
use serde::Deserialize;
use serde_json::json;

use crate::AppState;
use crate::auth::Authenticated;
use crate::envelope::{ApiError, data};
use crate::json::{local_datetime, parse_body, path_id};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileType {
    Csv,
    Xlsx,
}

fn file_type(q: &HashMap<String, String>) -> Result<FileType, ApiError> {
    match q.get("fileType").map(String::as_str) {
        None | Some("") | Some("CSV") => Ok(FileType::Csv),
        Some("XLSX") => Ok(FileType::Xlsx),
        Some(other) => Err(ApiError::bad_request(
            "4002",
            format!("fileType must be CSV or XLSX, not {other}"),
        )),
    }
}

fn report_date(q: &HashMap<String, String>) -> Result<NaiveDate, ApiError> {
    let raw = q
        .get("reportDate")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::bad_request("4001", "reportDate is required"))?;
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map_err(|_| ApiError::bad_request("4002", "reportDate must be a date like 2026-11-27"))
}

/// A CSV cell. Text a spreadsheet would run as a formula is defused with a leading `'`.
fn csv_cell(cell: &Cell) -> String {
    let text = match cell {
        Cell::Text(t) => t.clone(),
        Cell::Int(n) => n.to_string(),
        Cell::Amount(d) => d.to_string(),
        Cell::Empty => return String::new(),
    };
    let text =
        if matches!(cell, Cell::Text(_)) && text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            format!("'{text}")
        } else {
            text
        };
    if text.contains([',', '"', '\n', '\r', ';']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

fn csv(report: &Report) -> Vec<u8> {
    // The BOM makes spreadsheet programs read the file as UTF-8 (Turkish letters).
    let mut out = String::from("\u{feff}");
    out.push_str(&report.header.join(","));
    out.push_str("\r\n");
    for row in &report.rows {
        out.push_str(&row.iter().map(csv_cell).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out.into_bytes()
}

fn xlsx(report: &Report, sheet: &str) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("0.00");
    let ws = book.add_worksheet();
    ws.set_name(sheet)?;
    for (c, name) in report.header.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *name, &bold)?;
    }
    for (r, row) in report.rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(t) => {
                    ws.write_string(r, c, t)?;
                }
                Cell::Int(n) => {
                    // Ids and counts are far below 2^53: exact as spreadsheet numbers.
                    ws.write_number(r, c, *n as f64)?;
                }
                Cell::Amount(d) => {
                    // A spreadsheet cell is a double; the exact text is kept beside it in
                    // CSV. Amounts here have two decimals, well inside a double's precision.
                    let value: f64 = d.to_string().parse().unwrap_or(0.0);
                    ws.write_number_with_format(r, c, value, &money)?;
                }
                Cell::Empty => {}
            }
        }
    }
    ws.set_freeze_panes(1, 0)?;
    book.save_to_buffer()
}

fn file(report: &Report, kind: FileType, name: &str) -> Result<Response, ApiError> {
    let (bytes, content_type, ext) = match kind {
        FileType::Csv => (csv(report), "text/csv; charset=utf-8", "csv"),
        FileType::Xlsx => (
            xlsx(report, "Rapor").map_err(|e| ApiError::internal(format!("xlsx: {e}")))?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
    };
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}.{ext}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

async fn daily(
    state: &AppState,
    auth: &Authenticated,
    q: &HashMap<String, String>,
    kind: ReportKind,
) -> Result<Response, ApiError> {
    let day = report_date(q)?;
    let file_type = file_type(q)?;
    let report = state
        .engine
        .daily_report(auth.merchant.id, kind, day)
        .await?;
    let name = format!("{}-report-{day}", kind.as_str().to_lowercase());
    file(&report, file_type, &name)
}

pub async fn payment_report(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    daily(&state, &auth, &q, ReportKind::Payment).await
}

pub async fn transaction_report(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    daily(&state, &auth, &q, ReportKind::Transaction).await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DemandRequest {
    start_date: Option<String>,
    end_date: Option<String>,
    report_type: Option<String>,
    report_period: Option<String>,
}

pub async fn create_demand(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
) -> Result<Response, ApiError> {
    let r: DemandRequest = parse_body(&auth.body)?;
    let zone = state.engine.config().zone;
    let time = |name: &str, v: &Option<String>| -> Result<i64, ApiError> {
        let raw = v
            .as_deref()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| ApiError::bad_request("4001", format!("{name} is required")))?;
        parse_request_datetime(raw, zone)
            .map(|t| t.timestamp_millis())
            .ok_or_else(|| {
                ApiError::bad_request(
                    "4002",
                    format!("{name} must be a date-time like 2026-11-27T00:00:00"),
                )
            })
    };
    let start = time("startDate", &r.start_date)?;
    let end = time("endDate", &r.end_date)?;
    let kind = r
        .report_type
        .as_deref()
        .and_then(ReportKind::parse)
        .ok_or_else(|| {
            ApiError::bad_request("4002", "reportType must be PAYMENT or TRANSACTION")
        })?;
    let period = r.report_period.as_deref().unwrap_or("INSTANT");
    let demand = state
        .engine
        .create_report_demand(auth.merchant.id, kind, period, start, end)
        .await?;
    Ok(data(json!({
        "id": demand.id,
        "reportType": demand.report_type,
        "reportPeriod": demand.report_period,
        "startDate": local_datetime(demand.start_at, zone),
        "endDate": local_datetime(demand.end_at, zone),
    })))
}

pub async fn retrieve_report(
    State(state): State<AppState>,
    Extension(auth): Extension<Authenticated>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, "report")?;
    let file_type = file_type(&q)?;
    let report = state.engine.demanded_report(auth.merchant.id, id).await?;
    file(&report, file_type, &format!("report-{id}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    fn report() -> Report {
        Report {
            header: &["a", "b", "c", "d"],
            rows: vec![vec![
                Cell::Int(7),
                Cell::Amount(Decimal::new(1250, 2)),
                Cell::Text("=cmd|' /C calc'!A0".into()),
                Cell::Text("İstanbul, \"Kadıköy\"".into()),
            ]],
        }
    }

    #[test]
    fn csv_is_utf8_with_a_bom_quoted_and_defused() {
        let text = String::from_utf8(csv(&report())).unwrap();
        assert_eq!(
            text,
            "\u{feff}a,b,c,d\r\n7,12.50,'=cmd|' /C calc'!A0,\"İstanbul, \"\"Kadıköy\"\"\"\r\n"
        );
    }

    #[test]
    fn xlsx_is_a_zip_workbook() {
        let bytes = xlsx(&report(), "Rapor").unwrap();
        assert_eq!(&bytes[..2], b"PK");
    }
}
