//! Garanti simulator: placeholder until the family lands.

use axum::Router;

use crate::clock::SimClock;

#[derive(Clone)]
pub struct GarantiSim {
    #[allow(dead_code)]
    clock: SimClock,
}

impl GarantiSim {
    pub fn new(clock: SimClock) -> GarantiSim {
        GarantiSim { clock }
    }
}

pub fn router(_sim: GarantiSim) -> Router {
    Router::new()
}
