//! Posnet simulator: placeholder until the family lands.

use axum::Router;

use crate::clock::SimClock;

#[derive(Clone)]
pub struct PosnetSim {
    #[allow(dead_code)]
    clock: SimClock,
}

impl PosnetSim {
    pub fn new(clock: SimClock) -> PosnetSim {
        PosnetSim { clock }
    }
}

pub fn router(_sim: PosnetSim) -> Router {
    Router::new()
}
