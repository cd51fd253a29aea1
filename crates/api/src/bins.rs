//! `GET /installment/v1/bins/{bin}`: what Orkestra knows about a card's BIN.

use axum::extract::Path;
use axum::response::Response;
use serde_json::json;

use crate::envelope::{ApiError, data};

pub async fn retrieve(Path(bin): Path<String>) -> Result<Response, ApiError> {
    if !(6..=8).contains(&bin.len()) || !bin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad_request(
            "4016",
            "binNumber must be 6 to 8 digits",
        ));
    }
    let info = domain::bin::lookup(&bin).ok_or_else(|| ApiError::not_found("bin"))?;
    Ok(data(json!({
        "binNumber": bin,
        "cardType": info.card_type.map(|t| t.as_str()),
        "cardAssociation": info.association.map(|a| a.as_str()),
        "cardBrand": info.card_brand,
        "bankName": info.bank_name,
        "bankCode": info.bank_code,
        "commercial": info.commercial,
    })))
}
