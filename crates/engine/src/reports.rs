//! File reports (`/file-reporting/v1/*`): one row per payment, or per payment transaction,
//! with the columns a Turkish merchant's accounting reconciles against the bank: POS and
//! bank, installments, commission, net amount and the expected settlement date from the
//! POS's blockage days. The rows are built here; the API writes them as CSV or XLSX.

use chrono::{Duration, FixedOffset, NaiveDate};
use domain::enums::PosIntegrator;
use domain::money::{Currency, MinorUnits};
use rust_decimal::Decimal;
use store::panel::ReportDemandRow;
use store::rows::{PaymentRow, PosRow};

use crate::{Engine, EngineError, Result, validation};

/// Rows per report at most (a day or a demand's period).
pub const REPORT_ROWS_MAX: i64 = 200_000;
/// The longest period a report demand may cover.
pub const DEMAND_DAYS_MAX: i64 = 31;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    /// One row per payment.
    Payment,
    /// One row per payment transaction (basket item).
    Transaction,
}

impl ReportKind {
    pub fn parse(s: &str) -> Option<ReportKind> {
        match s {
            "PAYMENT" => Some(ReportKind::Payment),
            "TRANSACTION" => Some(ReportKind::Transaction),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Payment => "PAYMENT",
            ReportKind::Transaction => "TRANSACTION",
        }
    }
}

/// One cell: kept typed so a spreadsheet gets numbers as numbers.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    /// An exact amount in the currency's unit (`12.50`).
    Amount(Decimal),
    Empty,
}

impl Cell {
    fn text(value: Option<&str>) -> Cell {
        value
            .map(|v| Cell::Text(v.to_owned()))
            .unwrap_or(Cell::Empty)
    }
}

#[derive(Debug, Clone)]
pub struct Report {
    pub header: &'static [&'static str],
    pub rows: Vec<Vec<Cell>>,
}

pub const PAYMENT_COLUMNS: &[&str] = &[
    "paymentId",
    "createdDate",
    "paymentStatus",
    "paymentPhase",
    "price",
    "paidPrice",
    "refundedPrice",
    "currency",
    "installment",
    "posName",
    "posAlias",
    "bankName",
    "cardAssociation",
    "cardType",
    "cardBrand",
    "binNumber",
    "lastFourDigits",
    "authCode",
    "hostReference",
    "orderId",
    "bankCommissionRate",
    "bankCommissionAmount",
    "netAmount",
    "blockageDays",
    "expectedSettlementDate",
    "conversationId",
    "externalId",
];

pub const TRANSACTION_COLUMNS: &[&str] = &[
    "paymentTransactionId",
    "paymentId",
    "createdDate",
    "name",
    "externalId",
    "price",
    "paidPrice",
    "refundedPrice",
    "currency",
    "paymentStatus",
    "posAlias",
    "bankName",
    "subMerchantMemberId",
    "subMerchantMemberPrice",
    "expectedSettlementDate",
];

fn amount(minor: i64, currency: &str) -> Cell {
    match currency.parse::<Currency>() {
        Ok(c) => Cell::Amount(MinorUnits::from_stored(minor.max(0)).to_decimal(c)),
        Err(_) => Cell::Int(minor),
    }
}

fn local(epoch_ms: i64, zone: FixedOffset) -> chrono::DateTime<FixedOffset> {
    chrono::DateTime::from_timestamp_millis(epoch_ms)
        .unwrap_or_default()
        .with_timezone(&zone)
}

/// The blockage days of the commission row that applies to this payment: its POS's row
/// for its installment count and card programme, else the row for the installment count.
fn blockage_days(payment: &PaymentRow, pos: Option<&PosRow>) -> Option<i64> {
    let rows = &pos?.commissions;
    let brand = payment.doc.card_brand.as_deref();
    let for_installment = |c: &&store::rows::CommissionDoc| c.installment == payment.installment;
    rows.iter()
        .filter(for_installment)
        .find(|c| c.card_brand_name.is_some() && c.card_brand_name.as_deref() == brand)
        .or_else(|| {
            rows.iter()
                .filter(for_installment)
                .find(|c| c.card_brand_name.is_none())
        })
        .and_then(|c| c.blockage_day)
}

/// When the bank pays the merchant: the payment's local day plus the blockage days (the
/// next day when the POS has none). Only successful payments settle.
fn settlement_date(
    payment: &PaymentRow,
    blockage: Option<i64>,
    zone: FixedOffset,
) -> Option<NaiveDate> {
    (payment.status == "SUCCESS").then(|| {
        local(payment.created_at, zone).date_naive() + Duration::days(blockage.unwrap_or(1).max(1))
    })
}

fn bank_name(pos: Option<&PosRow>) -> Option<&'static str> {
    pos.and_then(|p| PosIntegrator::parse(&p.pos_integrator))
        .map(|i| i.bank().1)
}

impl Engine {
    /// The report of the payments created in `[from, to)` (epoch ms).
    pub async fn report(
        &self,
        merchant_id: i64,
        kind: ReportKind,
        from: i64,
        to: i64,
    ) -> Result<Report> {
        let zone = self.config.zone;
        let payments = self
            .store
            .payments_between(merchant_id, from, to, REPORT_ROWS_MAX)
            .await?;
        let poses = self.store.poses_any_status(merchant_id).await?;
        let pos_of = |p: &PaymentRow| p.pos_id.and_then(|id| poses.iter().find(|x| x.id == id));
        let date = |ms: i64| Cell::Text(local(ms, zone).format("%Y-%m-%d %H:%M:%S").to_string());
        let settlement = |p: &PaymentRow| {
            settlement_date(p, blockage_days(p, pos_of(p)), zone)
                .map(|d| Cell::Text(d.format("%Y-%m-%d").to_string()))
                .unwrap_or(Cell::Empty)
        };
        match kind {
            ReportKind::Payment => {
                let rows = payments
                    .iter()
                    .map(|p| {
                        let pos = pos_of(p);
                        let c = p.currency.as_str();
                        let commission = p.doc.bank_commission_minor.unwrap_or(0);
                        let net = if p.status == "SUCCESS" {
                            amount(p.paid_price_minor - p.refunded_minor - commission, c)
                        } else {
                            Cell::Empty
                        };
                        vec![
                            Cell::Int(p.id),
                            date(p.created_at),
                            Cell::Text(p.status.clone()),
                            Cell::Text(p.phase.clone()),
                            amount(p.price_minor, c),
                            amount(p.paid_price_minor, c),
                            amount(p.refunded_minor, c),
                            Cell::Text(p.currency.clone()),
                            Cell::Int(p.installment),
                            Cell::text(pos.map(|x| x.name.as_str())),
                            Cell::text(pos.map(|x| x.alias.as_str())),
                            Cell::text(bank_name(pos)),
                            Cell::text(p.doc.card_association.as_deref()),
                            Cell::text(p.doc.card_type.as_deref()),
                            Cell::text(p.doc.card_brand.as_deref()),
                            Cell::text(p.bin_number.as_deref()),
                            Cell::text(p.last_four.as_deref()),
                            Cell::text(p.doc.auth_code.as_deref()),
                            Cell::text(p.doc.host_reference.as_deref()),
                            Cell::text(p.doc.order_id.as_deref()),
                            p.doc
                                .bank_commission_rate
                                .as_deref()
                                .and_then(|r| r.parse::<Decimal>().ok())
                                .map(Cell::Amount)
                                .unwrap_or(Cell::Empty),
                            p.doc
                                .bank_commission_minor
                                .map(|m| amount(m, c))
                                .unwrap_or(Cell::Empty),
                            net,
                            blockage_days(p, pos).map(Cell::Int).unwrap_or(Cell::Empty),
                            settlement(p),
                            Cell::text(p.conversation_id.as_deref()),
                            Cell::text(p.external_id.as_deref()),
                        ]
                    })
                    .collect();
                Ok(Report {
                    header: PAYMENT_COLUMNS,
                    rows,
                })
            }
            ReportKind::Transaction => {
                let ids: Vec<i64> = payments.iter().map(|p| p.id).collect();
                let items = self.store.items_of_payments(&ids).await?;
                let rows = items
                    .iter()
                    .filter_map(|i| {
                        let p = payments.iter().find(|p| p.id == i.payment_id)?;
                        let pos = pos_of(p);
                        let c = p.currency.as_str();
                        Some(vec![
                            Cell::Int(i.id),
                            Cell::Int(p.id),
                            date(i.created_at),
                            Cell::text(i.name.as_deref()),
                            Cell::text(i.external_id.as_deref()),
                            amount(i.price_minor, c),
                            amount(i.paid_price_minor, c),
                            amount(i.refunded_minor, c),
                            Cell::Text(p.currency.clone()),
                            Cell::Text(p.status.clone()),
                            Cell::text(pos.map(|x| x.alias.as_str())),
                            Cell::text(bank_name(pos)),
                            i.sub_merchant_member_id
                                .map(Cell::Int)
                                .unwrap_or(Cell::Empty),
                            i.sub_merchant_member_price_minor
                                .map(|m| amount(m, c))
                                .unwrap_or(Cell::Empty),
                            settlement(p),
                        ])
                    })
                    .collect();
                Ok(Report {
                    header: TRANSACTION_COLUMNS,
                    rows,
                })
            }
        }
    }

    /// The report of one local day.
    pub async fn daily_report(
        &self,
        merchant_id: i64,
        kind: ReportKind,
        day: NaiveDate,
    ) -> Result<Report> {
        let (from, to) = self.day_bounds(day)?;
        self.report(merchant_id, kind, from, to).await
    }

    fn day_bounds(&self, day: NaiveDate) -> Result<(i64, i64)> {
        let start = |d: NaiveDate| {
            d.and_hms_opt(0, 0, 0)
                .and_then(|t| t.and_local_timezone(self.config.zone).single())
                .map(|t| t.timestamp_millis())
                .ok_or_else(|| validation("4002", "reportDate is not a valid date"))
        };
        Ok((start(day)?, start(day + Duration::days(1))?))
    }

    /// Records a report demand for a period (at most [`DEMAND_DAYS_MAX`] days).
    pub async fn create_report_demand(
        &self,
        merchant_id: i64,
        kind: ReportKind,
        period: &str,
        start_at: i64,
        end_at: i64,
    ) -> Result<ReportDemandRow> {
        if period != "INSTANT" {
            return Err(validation("4002", "reportPeriod must be INSTANT"));
        }
        if end_at <= start_at {
            return Err(validation("4002", "endDate must be after startDate"));
        }
        if end_at - start_at > DEMAND_DAYS_MAX * 24 * 3600 * 1000 {
            return Err(validation(
                "4002",
                format!("a report covers at most {DEMAND_DAYS_MAX} days"),
            ));
        }
        Ok(self
            .store
            .insert_report_demand(&ReportDemandRow {
                id: 0,
                merchant_id,
                report_type: kind.as_str().into(),
                report_period: period.into(),
                start_at,
                end_at,
                created_at: self.now_ms(),
            })
            .await?)
    }

    /// The report a demand asked for, built now from its period.
    pub async fn demanded_report(&self, merchant_id: i64, id: i64) -> Result<Report> {
        let demand = self
            .store
            .report_demand(merchant_id, id)
            .await?
            .ok_or(EngineError::NotFound("report"))?;
        let kind = ReportKind::parse(&demand.report_type)
            .ok_or_else(|| EngineError::Internal("unknown report type".into()))?;
        self.report(merchant_id, kind, demand.start_at, demand.end_at)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::rows::{CommissionDoc, PaymentDoc, PosDoc};

    fn payment(installment: i64, brand: Option<&str>, status: &str) -> PaymentRow {
        PaymentRow {
            id: 1,
            merchant_id: 1,
            status: status.into(),
            phase: "AUTH".into(),
            price_minor: 100,
            paid_price_minor: 100,
            currency: "TRY".into(),
            installment,
            payment_group: "PRODUCT".into(),
            payment_source: "API".into(),
            conversation_id: None,
            external_id: None,
            buyer_member_id: None,
            pos_id: Some(7),
            bin_number: None,
            last_four: None,
            captured_minor: 100,
            refunded_minor: 0,
            voided: false,
            doc: PaymentDoc {
                card_brand: brand.map(str::to_owned),
                ..PaymentDoc::default()
            },
            checkout_token: None,
            product_id: None,
            // 2026-11-27 23:30 in Istanbul (UTC+3): the local day decides.
            created_at: 1_795_811_400_000,
            updated_at: 0,
            version: 0,
        }
    }

    fn pos(rows: Vec<CommissionDoc>) -> PosRow {
        PosRow {
            id: 7,
            merchant_id: 1,
            alias: "a".into(),
            name: "n".into(),
            status: "ACTIVE".into(),
            pos_integrator: "ISBANK".into(),
            currency: "TRY".into(),
            order_number: 1,
            doc: PosDoc::default(),
            credentials_sealed: String::new(),
            commissions: rows,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn row(installment: i64, brand: Option<&str>, blockage: i64) -> CommissionDoc {
        CommissionDoc {
            installment,
            card_brand_name: brand.map(str::to_owned),
            blockage_day: Some(blockage),
            ..CommissionDoc::default()
        }
    }

    #[test]
    fn blockage_comes_from_the_programme_row_then_the_installment_row() {
        let p = pos(vec![
            row(1, None, 1),
            row(3, None, 30),
            row(3, Some("World"), 45),
        ]);
        assert_eq!(
            blockage_days(&payment(3, Some("World"), "SUCCESS"), Some(&p)),
            Some(45)
        );
        assert_eq!(
            blockage_days(&payment(3, Some("Bonus"), "SUCCESS"), Some(&p)),
            Some(30)
        );
        assert_eq!(blockage_days(&payment(6, None, "SUCCESS"), Some(&p)), None);
    }

    #[test]
    fn settlement_is_the_local_day_plus_blockage() {
        let zone = FixedOffset::east_opt(3 * 3600).unwrap();
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        let p = payment(1, None, "SUCCESS");
        assert_eq!(
            local(p.created_at, zone).date_naive(),
            d("2026-11-27").unwrap()
        );
        assert_eq!(settlement_date(&p, Some(30), zone), d("2026-12-27"));
        assert_eq!(
            settlement_date(&p, None, zone),
            d("2026-11-28"),
            "next day without blockage"
        );
        assert_eq!(
            settlement_date(&payment(1, None, "FAILURE"), Some(30), zone),
            None
        );
    }
}
