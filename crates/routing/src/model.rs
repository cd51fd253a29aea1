//! The routing engine's inputs: a merchant's POSes with their commission rows, and the facts of
//! one payment (amount, currency, installment count, 3DS, and what the BIN table says about the
//! card).
//!
//! These are plain owned structs the engine fills from the store's rows; this crate does not
//! know `store`. Rates are percent (`1.79` means 1.79 %), exact [`Decimal`]s.

use domain::enums::{CardAssociation, CardType, PosStatus};
use domain::money::{Currency, MinorUnits};
use rust_decimal::Decimal;

/// Installment counts Turkish banks offer: 1 (a single payment) up to 12.
pub const INSTALLMENT_MAX: u32 = 12;

/// One merchant POS as routing sees it (Craftgate's `MerchantPosResponse`, reduced).
#[derive(Debug, Clone, PartialEq)]
pub struct PosCandidate {
    pub id: i64,
    /// Craftgate's `alias`, e.g. `46-akbank-260`; what rules and `routingOptions.posAliases` name.
    pub alias: String,
    /// The acquiring bank's EFT/BKM code (`PosIntegrator::bank().0`), compared with the card
    /// issuer's code for on-us.
    pub bank_code: u32,
    pub status: PosStatus,
    /// Craftgate's `orderNumber`: the merchant's order for `IN_ORDER`, and every tie-break.
    pub order_number: i64,
    pub currency: Currency,
    /// `enableForeignCard`.
    pub accepts_foreign_cards: bool,
    /// `enableInstallment`.
    pub installments_enabled: bool,
    /// `enabledPaymentAuthenticationTypes` contains `THREE_DS`.
    pub supports_three_ds: bool,
    /// `enabledPaymentAuthenticationTypes` contains `NON_THREE_DS`.
    pub supports_non_three_ds: bool,
    /// `enablePaymentWithoutCvc`.
    pub payment_without_cvc: bool,
    /// `enableLoyalty`.
    pub loyalty_enabled: bool,
    /// `supportedCardAssociations`; empty means every association.
    pub supported_associations: Vec<CardAssociation>,
    pub commissions: Vec<Commission>,
}

impl PosCandidate {
    /// An active POS that accepts everything and has no commission rows; tests and examples
    /// start here and change what they need.
    pub fn new(id: i64, alias: impl Into<String>, bank_code: u32, currency: Currency) -> Self {
        PosCandidate {
            id,
            alias: alias.into(),
            bank_code,
            status: PosStatus::Active,
            order_number: id,
            currency,
            accepts_foreign_cards: true,
            installments_enabled: true,
            supports_three_ds: true,
            supports_non_three_ds: true,
            payment_without_cvc: false,
            loyalty_enabled: false,
            supported_associations: Vec::new(),
            commissions: Vec::new(),
        }
    }
}

/// One commission row of a POS (Craftgate's `MerchantPosCommissionResponse`): the bank's rates
/// for one installment count and, optionally, one card programme.
///
/// A bank rate of `None` is unknown (the row left it empty); a candidate with an unknown rate
/// sorts after every known rate under `LOW_COMMISSION_RATE`.
#[derive(Debug, Clone, PartialEq)]
pub struct Commission {
    pub installment: u32,
    /// Craftgate's `cardBrandName` ("Bonus", "World", ...): the row applies only to that
    /// programme's cards. `None` applies to any card. A programme row beats a generic one.
    pub card_brand: Option<String>,
    pub on_us_credit: Option<Decimal>,
    pub not_on_us_credit: Option<Decimal>,
    pub on_us_debit: Option<Decimal>,
    pub not_on_us_debit: Option<Decimal>,
    pub foreign: Option<Decimal>,
    /// The rate the merchant passes on to the buyer (`merchantCommissionRate`): the buyer pays
    /// `price × (1 + merchant_rate / 100)`, see [`crate::total_price`].
    pub merchant_rate: Decimal,
    pub blockage_days: u32,
    /// `installmentLabel`, shown in installment offers.
    pub label: Option<String>,
    /// `status == ACTIVE`; passive rows are ignored.
    pub active: bool,
}

impl Commission {
    /// An active generic row with one rate for every kind of card and no pass-on.
    pub fn flat(installment: u32, rate: Decimal) -> Self {
        Commission {
            installment,
            card_brand: None,
            on_us_credit: Some(rate),
            not_on_us_credit: Some(rate),
            on_us_debit: Some(rate),
            not_on_us_debit: Some(rate),
            foreign: Some(rate),
            merchant_rate: Decimal::ZERO,
            blockage_days: 0,
            label: None,
            active: true,
        }
    }

    /// Whether this row can price a card of programme `brand`.
    pub(crate) fn applies_to(&self, brand: Option<&str>) -> bool {
        match (&self.card_brand, brand) {
            (None, _) => true,
            (Some(row), Some(card)) => row.eq_ignore_ascii_case(card),
            (Some(_), None) => false,
        }
    }
}

/// What the BIN table says about the card. Unknown facts are `None`; a rule condition on an
/// unknown fact never matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CardFacts<'c> {
    /// The issuer's EFT/BKM code (`BinInfo::bank_code`).
    pub bank_code: Option<u32>,
    pub card_type: Option<CardType>,
    pub association: Option<CardAssociation>,
    /// The Turkish programme (`BinInfo::card_brand`).
    pub brand: Option<&'c str>,
    /// Issued in Turkey (`bin::is_domestic`). A card that is not domestic is foreign: it needs
    /// a POS that accepts foreign cards, is priced at the foreign rate, and gets no installments.
    pub domestic: bool,
    /// The card's leading digits (6 or 8 are enough), for `BIN_RANGE` conditions.
    pub bin: &'c str,
}

impl CardFacts<'_> {
    /// Debit and prepaid cards take no installments and are priced at debit rates. An unknown
    /// type is treated as credit: the bank has the last word.
    pub(crate) fn is_debit_like(&self) -> bool {
        matches!(
            self.card_type,
            Some(CardType::DebitCard | CardType::PrepaidCard)
        )
    }

    pub(crate) fn on_us(&self, pos: &PosCandidate) -> bool {
        self.bank_code == Some(pos.bank_code)
    }
}

/// The facts of one payment that routing decides on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymentFacts<'c> {
    /// The payment's `price`, before any pass-on: what `AMOUNT_RANGE` conditions compare and
    /// what the pass-on is added to. Using the price (not the charged total, which depends on
    /// the POS chosen) keeps the offer and the charge on the same rules.
    pub amount: MinorUnits,
    pub currency: Currency,
    /// 1..=12; 0 is read as 1.
    pub installment: u32,
    pub three_ds: bool,
    pub card: CardFacts<'c>,
}
