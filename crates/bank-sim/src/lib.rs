//! Bank simulators: in-process fakes of the banks' virtual-POS servers that speak their
//! real wire protocols, check what the real banks check and answer as they do. Orkestra's
//! tests, sandbox and benchmarks point connectors at them instead of at a bank.
//!
//! Principal items: [`Simulators`] (all simulators' shared state, cheap to clone) and
//! [`router`] (every family under its own path prefix). Families so far:
//!
//! * [`nestpay`] — NestPay / EST v3 (Asseco-Payten), under `/nestpay` (`/nestpay/fim/api`).
//! * [`garanti`] — Garanti BBVA GVPS, under `/garanti` (`/garanti/VPServlet`).
//! * [`posnet`] — Yapı Kredi PosNet, under `/posnet` (`/posnet/PosnetWebService/XML`).
//! * [`payfor`] — QNB PayFor (QNB Finansbank, Enpara, Ziraat Katılım), under `/payfor`.
//! * [`interpos`] — DenizBank InterPos, under `/interpos` (`/interpos/mpi/Default.aspx`).
//! * [`akbank`] — Akbank's JSON virtual POS (`AKBANK_VPOS`), under `/akbank`
//!   (`/akbank/api/v1/payment/virtualpos/transaction/process`, gate `/akbank/securepay`).
//! * [`kuveyt`] — Kuveyt Türk (BOA), under `/kuveyt`
//!   (`/kuveyt/boa.virtualpos.services/Home/…` and its SOAP `VirtualPosService`).
//! * [`payflex`] — PayFlex V4 (VakıfBank, Ziraat PayFlex), under `/payflex`
//!   (`/payflex/VposService/v3/Vposreq.aspx`, MPI `/payflex/MPIAPI/MPI_Enrollment.aspx`).
//!
//! Every simulator reads time from one [`clock::SimClock`], which tests can shift to
//! exercise expiry and end-of-day rules. Each family also has `/_sim/...` JSON admin
//! routes (stores, injected faults, settlement, the bank's view of an order).
//!
//! ```no_run
//! # async fn serve() -> std::io::Result<()> {
//! let sims = bank_sim::Simulators::new();
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! axum::serve(listener, bank_sim::router(sims)).await
//! # }
//! ```

pub mod admin_api;
pub mod akbank;
pub mod clock;
pub mod garanti;
pub mod gate_sessions;
pub mod interpos;
pub mod kuveyt;
pub mod nestpay;
mod order_book;
pub mod page_form;
pub mod payflex;
pub mod payfor;
pub mod posnet;

use axum::Router;

use clock::SimClock;
use nestpay::NestPaySim;

/// The state of every simulator. Clones share it (everything inside is `Arc`ed).
#[derive(Clone)]
pub struct Simulators {
    clock: SimClock,
    nestpay: NestPaySim,
    garanti: garanti::GarantiSim,
    posnet: posnet::PosnetSim,
    payfor: payfor::PayforSim,
    interpos: interpos::InterposSim,
    akbank: akbank::AkbankSim,
    kuveyt: kuveyt::KuveytSim,
    payflex: payflex::PayflexSim,
}

impl Simulators {
    /// Fresh simulators with their preloaded test stores
    /// ([`nestpay::PRELOADED_STORES`]) and a clock reading wall time.
    pub fn new() -> Simulators {
        let clock = SimClock::new();
        Simulators {
            nestpay: NestPaySim::new(clock.clone()),
            garanti: garanti::GarantiSim::new(clock.clone()),
            posnet: posnet::PosnetSim::new(clock.clone()),
            payfor: payfor::PayforSim::new(clock.clone()),
            interpos: interpos::InterposSim::new(clock.clone()),
            akbank: akbank::AkbankSim::new(clock.clone()),
            kuveyt: kuveyt::KuveytSim::new(clock.clone()),
            payflex: payflex::PayflexSim::new(clock.clone()),
            clock,
        }
    }

    /// The clock all simulators read; shift it to test expiry or day boundaries.
    pub fn clock(&self) -> &SimClock {
        &self.clock
    }

    /// The Akbank simulator, for tests that prefer Rust calls to the admin routes.
    pub fn akbank(&self) -> &akbank::AkbankSim {
        &self.akbank
    }

    /// The PayFlex simulator, for tests that prefer Rust calls to the admin routes.
    pub fn payflex(&self) -> &payflex::PayflexSim {
        &self.payflex
    }

    /// The NestPay simulator, for tests that prefer Rust calls to the admin routes.
    pub fn nestpay(&self) -> &NestPaySim {
        &self.nestpay
    }
}

impl Default for Simulators {
    fn default() -> Simulators {
        Simulators::new()
    }
}

/// Every simulator, each family under its own path prefix (`/nestpay/...`).
pub fn router(sims: Simulators) -> Router {
    Router::new()
        .nest("/nestpay", nestpay::router(sims.nestpay.clone()))
        .nest("/garanti", garanti::router(sims.garanti.clone()))
        .nest("/posnet", posnet::router(sims.posnet.clone()))
        .nest("/payfor", payfor::router(sims.payfor.clone()))
        .nest("/interpos", interpos::router(sims.interpos.clone()))
        .nest("/akbank", akbank::router(sims.akbank.clone()))
        .nest("/kuveyt", kuveyt::router(sims.kuveyt.clone()))
        .nest("/payflex", payflex::router(sims.payflex.clone()))
}
