//! The hosted checkout page (placeholder until it lands).

use axum::http::StatusCode;
use axum::response::Response;
use engine::threeds::ThreeDsCallbackResult;

use crate::AppState;

pub async fn after_threeds(
    _state: &AppState,
    _token: &str,
    _result: ThreeDsCallbackResult,
) -> Response {
    crate::threeds::message_page(
        StatusCode::NOT_FOUND,
        "Ödeme sayfası bulunamadı.",
        "Checkout not found.",
    )
}
