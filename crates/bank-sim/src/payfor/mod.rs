//! Payfor simulator: placeholder until the family lands.

use axum::Router;

use crate::clock::SimClock;

#[derive(Clone)]
pub struct PayforSim {
    #[allow(dead_code)]
    clock: SimClock,
}

impl PayforSim {
    pub fn new(clock: SimClock) -> PayforSim {
        PayforSim { clock }
    }
}

pub fn router(_sim: PayforSim) -> Router {
    Router::new()
}
