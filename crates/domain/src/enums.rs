//! Craftgate's enums as they appear on the wire (`SCREAMING_SNAKE_CASE` strings), plus the
//! internal states Orkestra keeps behind them.

use serde::{Deserialize, Serialize};

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $wire)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            pub fn parse(raw: &str) -> Option<$name> {
                match raw { $($wire => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum!(
    /// `paymentStatus` as the API shows it.
    PaymentStatus {
        Failure = "FAILURE",
        Success = "SUCCESS",
        InitThreeds = "INIT_THREEDS",
        CallbackThreeds = "CALLBACK_THREEDS",
        Waiting = "WAITING",
    }
);

wire_enum!(PaymentPhase { Auth = "AUTH", PreAuth = "PRE_AUTH", PostAuth = "POST_AUTH" });

wire_enum!(PaymentType {
    CardPayment = "CARD_PAYMENT",
    WalletPayment = "WALLET_PAYMENT",
    CardAndWalletPayment = "CARD_AND_WALLET_PAYMENT",
    DepositPayment = "DEPOSIT_PAYMENT",
    Apm = "APM",
});

wire_enum!(PaymentGroup { Product = "PRODUCT", ListingOrSubscription = "LISTING_OR_SUBSCRIPTION" });

wire_enum!(PaymentSource {
    Api = "API",
    CheckoutForm = "CHECKOUT_FORM",
    PayByLink = "PAY_BY_LINK",
});

wire_enum!(CardType { CreditCard = "CREDIT_CARD", DebitCard = "DEBIT_CARD", PrepaidCard = "PREPAID_CARD" });

wire_enum!(CardAssociation {
    Visa = "VISA",
    MasterCard = "MASTER_CARD",
    Amex = "AMEX",
    Troy = "TROY",
    Jcb = "JCB",
    UnionPay = "UNION_PAY",
    Maestro = "MAESTRO",
    Discover = "DISCOVER",
    DinersClub = "DINERS_CLUB",
});

wire_enum!(RefundType { Cancel = "CANCEL", Refund = "REFUND" });
wire_enum!(RefundStatus { Success = "SUCCESS", Failure = "FAILURE", Waiting = "WAITING" });
wire_enum!(RefundDestinationType { Card = "CARD", Provider = "PROVIDER", Wallet = "WALLET" });
wire_enum!(PaymentRefundStatus {
    NoRefund = "NO_REFUND",
    NotRefunded = "NOT_REFUNDED",
    PartialRefunded = "PARTIAL_REFUNDED",
    FullyRefunded = "FULLY_REFUNDED",
});
wire_enum!(TransactionStatus {
    WaitingForApproval = "WAITING_FOR_APPROVAL",
    Approved = "APPROVED",
    PayoutStarted = "PAYOUT_STARTED",
});

wire_enum!(PosStatus {
    Deleted = "DELETED",
    Passive = "PASSIVE",
    Active = "ACTIVE",
    RefundOnly = "REFUND_ONLY",
    Autopilot = "AUTOPILOT",
});

wire_enum!(PaymentAuthenticationType {
    ThreeDs = "THREE_DS",
    NonThreeDs = "NON_THREE_DS",
    BkmExpress = "BKM_EXPRESS",
});

wire_enum!(Status { Passive = "PASSIVE", Active = "ACTIVE" });

wire_enum!(MemberType {
    Personal = "PERSONAL",
    PrivateCompany = "PRIVATE_COMPANY",
    LimitedOrJointStockCompany = "LIMITED_OR_JOINT_STOCK_COMPANY",
});

wire_enum!(SettlementEarningsDestination {
    Iban = "IBAN",
    Wallet = "WALLET",
    CrossBorder = "CROSS_BORDER",
    None = "NONE",
});

wire_enum!(PosUserType { Api = "API" });
wire_enum!(PosOperationType {
    Standard = "STANDARD",
    Provaut = "PROVAUT",
    Provrfn = "PROVRFN",
    Payment = "PAYMENT",
    Refund = "REFUND",
    Inquiry = "INQUIRY",
});

wire_enum!(OrderingRule { OnUs = "ON_US", LowCommissionRate = "LOW_COMMISSION_RATE", InOrder = "IN_ORDER" });

wire_enum!(
    /// Craftgate's `PosIntegrator`: every value is accepted and stored; the ones served by a
    /// connector are listed by [`PosIntegrator::family`].
    PosIntegrator {
        Akbank = "AKBANK",
        AkbankVpos = "AKBANK_VPOS",
        Anadolubank = "ANADOLUBANK",
        Denizbank = "DENIZBANK",
        Enpara = "ENPARA",
        Fibabank = "FIBABANK",
        FibabankAsseco = "FIBABANK_ASSECO",
        Finansbank = "FINANSBANK",
        Garanti = "GARANTI",
        Halkbank = "HALKBANK",
        HalkbankVpos = "HALKBANK_VPOS",
        Ingbank = "INGBANK",
        Isbank = "ISBANK",
        IsbankVpos = "ISBANK_VPOS",
        Kuveytturk = "KUVEYTTURK",
        Teb = "TEB",
        Vakifbank = "VAKIFBANK",
        Vakifkatilim = "VAKIFKATILIM",
        Ykb = "YKB",
        Ziraatbank = "ZIRAATBANK",
        ZiraatbankInnova = "ZIRAATBANK_INNOVA",
        Ziraatkatilim = "ZIRAATKATILIM",
        Finanskatilim = "FINANSKATILIM",
        Sekerbank = "SEKERBANK",
    }
);

/// The wire-protocol family a connector implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ConnectorFamily {
    Nestpay,
    Garanti,
    Posnet,
    Payfor,
    Interpos,
    /// Akbank's JSON virtual POS (`AKBANK_VPOS`); Akbank's older POS (`AKBANK`) is NestPay.
    AkbankJson,
    Kuveyt,
    /// PayFlex V4 (MPI + VPOS 7/24): VakıfBank and Ziraat's PayFlex POS.
    Payflex,
}

impl ConnectorFamily {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectorFamily::Nestpay => "nestpay",
            ConnectorFamily::Garanti => "garanti",
            ConnectorFamily::Posnet => "posnet",
            ConnectorFamily::Payfor => "payfor",
            ConnectorFamily::Interpos => "interpos",
            ConnectorFamily::AkbankJson => "akbank",
            ConnectorFamily::Kuveyt => "kuveyt",
            ConnectorFamily::Payflex => "payflex",
        }
    }
}

impl PosIntegrator {
    /// The connector family that serves this integrator, if Orkestra has one yet.
    pub fn family(self) -> Option<ConnectorFamily> {
        match self {
            PosIntegrator::Akbank
            | PosIntegrator::Anadolubank
            | PosIntegrator::FibabankAsseco
            | PosIntegrator::Halkbank
            | PosIntegrator::Ingbank
            | PosIntegrator::Isbank
            | PosIntegrator::Teb
            | PosIntegrator::Ziraatbank
            | PosIntegrator::Sekerbank => Some(ConnectorFamily::Nestpay),
            PosIntegrator::Garanti => Some(ConnectorFamily::Garanti),
            PosIntegrator::Ykb => Some(ConnectorFamily::Posnet),
            PosIntegrator::Finansbank | PosIntegrator::Enpara | PosIntegrator::Ziraatkatilim => {
                Some(ConnectorFamily::Payfor)
            }
            PosIntegrator::Denizbank => Some(ConnectorFamily::Interpos),
            PosIntegrator::AkbankVpos => Some(ConnectorFamily::AkbankJson),
            PosIntegrator::Kuveytturk => Some(ConnectorFamily::Kuveyt),
            PosIntegrator::Vakifbank | PosIntegrator::ZiraatbankInnova => {
                Some(ConnectorFamily::Payflex)
            }
            PosIntegrator::Fibabank
            | PosIntegrator::HalkbankVpos
            | PosIntegrator::IsbankVpos
            | PosIntegrator::Vakifkatilim
            | PosIntegrator::Finanskatilim => None,
        }
    }

    /// The bank's EFT/BKM code and display name, used for `bankId`/`bankName` and on-us checks.
    pub fn bank(self) -> (u32, &'static str) {
        match self {
            PosIntegrator::Akbank | PosIntegrator::AkbankVpos => (46, "Akbank"),
            PosIntegrator::Anadolubank => (135, "Anadolubank"),
            PosIntegrator::Denizbank => (134, "Denizbank"),
            PosIntegrator::Enpara | PosIntegrator::Finansbank => (111, "QNB Finansbank"),
            PosIntegrator::Fibabank | PosIntegrator::FibabankAsseco => (103, "Fibabanka"),
            PosIntegrator::Garanti => (62, "Garanti BBVA"),
            PosIntegrator::Halkbank | PosIntegrator::HalkbankVpos => (12, "Halkbank"),
            PosIntegrator::Ingbank => (99, "ING Bank"),
            PosIntegrator::Isbank | PosIntegrator::IsbankVpos => (64, "Türkiye İş Bankası"),
            PosIntegrator::Kuveytturk => (205, "Kuveyt Türk"),
            PosIntegrator::Teb => (32, "TEB"),
            PosIntegrator::Vakifbank => (15, "VakıfBank"),
            PosIntegrator::Vakifkatilim => (210, "Vakıf Katılım"),
            PosIntegrator::Ykb => (67, "Yapı Kredi"),
            PosIntegrator::Ziraatbank | PosIntegrator::ZiraatbankInnova => (10, "Ziraat Bankası"),
            PosIntegrator::Ziraatkatilim => (209, "Ziraat Katılım"),
            PosIntegrator::Finanskatilim => (206, "Türkiye Finans"),
            PosIntegrator::Sekerbank => (59, "Şekerbank"),
        }
    }
}

wire_enum!(
    /// Craftgate's payment `errorGroup`s: what a decline means to the merchant.
    ErrorGroup {
        NotSufficientFunds = "NOT_SUFFICIENT_FUNDS",
        DoNotHonour = "DO_NOT_HONOUR",
        InvalidTransaction = "INVALID_TRANSACTION",
        NotPermittedToCardholder = "NOT_PERMITTED_TO_CARDHOLDER",
        StolenCard = "STOLEN_CARD",
        Declined = "DECLINED",
        LostCard = "LOST_CARD",
        ExpiredCard = "EXPIRED_CARD",
        InvalidCvc2 = "INVALID_CVC2",
        NotPermittedToTerminal = "NOT_PERMITTED_TO_TERMINAL",
        FraudSuspect = "FRAUD_SUSPECT",
        RestrictedByLaw = "RESTRICTED_BY_LAW",
        Unknown = "UNKNOWN",
        CardNotPermitted = "CARD_NOT_PERMITTED",
        PickupCard = "PICKUP_CARD",
        InvalidCard = "INVALID_CARD",
        InvalidInstallment = "INVALID_INSTALLMENT",
        ExceedsWithdrawalLimit = "EXCEEDS_WITHDRAWAL_LIMIT",
        BankNotAvailable = "BANK_NOT_AVAILABLE",
        InvalidMerchantOrPos = "INVALID_MERCHANT_OR_POS",
        DuplicateOrder = "DUPLICATE_ORDER",
        InvalidAmount = "INVALID_AMOUNT",
        ThreedsAuthenticationFailed = "THREEDS_AUTHENTICATION_FAILED",
    }
);

impl ErrorGroup {
    /// An issuer's hard decline: retrying the same card elsewhere would not help and may harm.
    pub fn is_issuer_hard_decline(self) -> bool {
        matches!(
            self,
            ErrorGroup::StolenCard
                | ErrorGroup::LostCard
                | ErrorGroup::PickupCard
                | ErrorGroup::FraudSuspect
                | ErrorGroup::InvalidCard
                | ErrorGroup::NotSufficientFunds
                | ErrorGroup::ExpiredCard
                | ErrorGroup::InvalidCvc2
                | ErrorGroup::RestrictedByLaw
        )
    }

    /// The numeric `errorCode` Craftgate reports with this group (codes above 10000 are
    /// payment errors).
    pub fn error_code(self) -> &'static str {
        match self {
            ErrorGroup::NotSufficientFunds => "10051",
            ErrorGroup::DoNotHonour => "10005",
            ErrorGroup::InvalidTransaction => "10012",
            ErrorGroup::NotPermittedToCardholder => "10057",
            ErrorGroup::StolenCard => "10043",
            ErrorGroup::Declined => "10034",
            ErrorGroup::LostCard => "10041",
            ErrorGroup::ExpiredCard => "10054",
            ErrorGroup::InvalidCvc2 => "10082",
            ErrorGroup::NotPermittedToTerminal => "10058",
            ErrorGroup::FraudSuspect => "10059",
            ErrorGroup::RestrictedByLaw => "10093",
            ErrorGroup::Unknown => "10000",
            ErrorGroup::CardNotPermitted => "10062",
            ErrorGroup::PickupCard => "10004",
            ErrorGroup::InvalidCard => "10014",
            ErrorGroup::InvalidInstallment => "10215",
            ErrorGroup::ExceedsWithdrawalLimit => "10061",
            ErrorGroup::BankNotAvailable => "10091",
            ErrorGroup::InvalidMerchantOrPos => "10003",
            ErrorGroup::DuplicateOrder => "10096",
            ErrorGroup::InvalidAmount => "10013",
            ErrorGroup::ThreedsAuthenticationFailed => "10220",
        }
    }

    /// A short description in Turkish or English.
    pub fn description(self, turkish: bool) -> &'static str {
        let (tr, en) = match self {
            ErrorGroup::NotSufficientFunds => (
                "Kart limiti yetersiz, yetersiz bakiye",
                "Insufficient card limit, insufficient balance",
            ),
            ErrorGroup::DoNotHonour => ("İşlem onaylanmadı", "Do not honour"),
            ErrorGroup::InvalidTransaction => ("Geçersiz işlem", "Invalid transaction"),
            ErrorGroup::NotPermittedToCardholder => (
                "Kart sahibine bu işlem için izin verilmiyor",
                "Transaction not permitted to cardholder",
            ),
            ErrorGroup::StolenCard => ("Çalıntı kart", "Stolen card"),
            ErrorGroup::Declined => ("İşlem reddedildi", "Transaction declined"),
            ErrorGroup::LostCard => ("Kayıp kart", "Lost card"),
            ErrorGroup::ExpiredCard => ("Kartın süresi dolmuş", "Expired card"),
            ErrorGroup::InvalidCvc2 => ("Geçersiz güvenlik kodu", "Invalid CVC2"),
            ErrorGroup::NotPermittedToTerminal => (
                "Bu işleme terminal için izin verilmiyor",
                "Transaction not permitted to terminal",
            ),
            ErrorGroup::FraudSuspect => ("Dolandırıcılık şüphesi", "Fraud suspect"),
            ErrorGroup::RestrictedByLaw => ("Yasal kısıtlama", "Restricted by law"),
            ErrorGroup::Unknown => ("Bilinmeyen hata", "Unknown error"),
            ErrorGroup::CardNotPermitted => ("Kart bu işleme kapalı", "Card not permitted"),
            ErrorGroup::PickupCard => ("Karta el koyunuz", "Pick up card"),
            ErrorGroup::InvalidCard => ("Geçersiz kart", "Invalid card"),
            ErrorGroup::InvalidInstallment => ("Geçersiz taksit", "Invalid installment"),
            ErrorGroup::ExceedsWithdrawalLimit => ("Limit aşıldı", "Exceeds withdrawal limit"),
            ErrorGroup::BankNotAvailable => ("Banka şu an yanıt vermiyor", "Bank not available"),
            ErrorGroup::InvalidMerchantOrPos => {
                ("Geçersiz üye işyeri veya POS", "Invalid merchant or POS")
            }
            ErrorGroup::DuplicateOrder => ("Mükerrer sipariş", "Duplicate order"),
            ErrorGroup::InvalidAmount => ("Geçersiz tutar", "Invalid amount"),
            ErrorGroup::ThreedsAuthenticationFailed => (
                "3D Secure doğrulaması başarısız",
                "3D Secure authentication failed",
            ),
        };
        if turkish { tr } else { en }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip_through_serde() {
        for group in ErrorGroup::ALL {
            let json = serde_json::to_string(group).unwrap();
            assert_eq!(json, format!("\"{}\"", group.as_str()));
            assert_eq!(ErrorGroup::parse(group.as_str()), Some(*group));
        }
        assert_eq!(PosIntegrator::parse("ISBANK"), Some(PosIntegrator::Isbank));
        assert_eq!(PaymentPhase::parse("PRE_AUTH"), Some(PaymentPhase::PreAuth));
    }

    #[test]
    fn nestpay_banks_map_to_the_nestpay_family() {
        for i in [
            PosIntegrator::Isbank,
            PosIntegrator::Halkbank,
            PosIntegrator::Ziraatbank,
            PosIntegrator::Teb,
            PosIntegrator::Akbank,
        ] {
            assert_eq!(i.family(), Some(ConnectorFamily::Nestpay));
        }
        assert_eq!(
            PosIntegrator::Garanti.family(),
            Some(ConnectorFamily::Garanti)
        );
        assert_eq!(
            PosIntegrator::Denizbank.family(),
            Some(ConnectorFamily::Interpos)
        );
        assert_eq!(
            PosIntegrator::AkbankVpos.family(),
            Some(ConnectorFamily::AkbankJson)
        );
        assert_eq!(ConnectorFamily::AkbankJson.as_str(), "akbank");
        assert_eq!(
            PosIntegrator::Kuveytturk.family(),
            Some(ConnectorFamily::Kuveyt)
        );
        for i in [PosIntegrator::Vakifbank, PosIntegrator::ZiraatbankInnova] {
            assert_eq!(i.family(), Some(ConnectorFamily::Payflex));
        }
        assert_eq!(ConnectorFamily::Payflex.as_str(), "payflex");
        assert_eq!(PosIntegrator::Vakifkatilim.family(), None);
    }
}
