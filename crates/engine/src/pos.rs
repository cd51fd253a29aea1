//! Merchant POSes: creating and updating them (credentials sealed by the vault) and turning
//! a stored POS into the [`PosConfig`] a connector needs.

use connectors::{PosConfig, Registry};
use domain::enums::{PosIntegrator, PosStatus};
use domain::money::Currency;
use domain::secret::Secret;
use store::rows::{CommissionDoc, PosCredentials, PosDoc, PosRow, PosUserDoc};

use crate::{Engine, EngineError, Result, validation};

pub const PURPOSE_POS_CREDENTIALS: &str = "pos-credentials";

/// One POS user as the API gives it.
#[derive(Debug, Clone, Default)]
pub struct PosUserInput {
    pub id: Option<i64>,
    pub pos_username: Option<String>,
    pub pos_password: Option<String>,
    pub pos_user_type: Option<String>,
    pub pos_operation_type: Option<String>,
}

/// Fields of `CreateMerchantPosRequest` / `UpdateMerchantPosRequest`; `None` keeps the
/// current value on update.
#[derive(Debug, Clone, Default)]
pub struct PosInput {
    pub name: Option<String>,
    pub status: Option<PosStatus>,
    pub pos_integrator: Option<PosIntegrator>,
    pub currency: Option<Currency>,
    pub order_number: Option<i64>,
    pub hostname: Option<String>,
    pub path: Option<String>,
    pub threeds_path: Option<String>,
    pub port: Option<i64>,
    pub mode: Option<String>,
    pub client_id: Option<String>,
    pub terminal_id: Option<String>,
    pub posnet_id: Option<String>,
    pub threeds_posnet_id: Option<String>,
    pub threeds_terminal_id: Option<String>,
    pub threeds_key: Option<String>,
    pub enable_foreign_card: Option<bool>,
    pub enable_installment: Option<bool>,
    pub enable_payment_without_cvc: Option<bool>,
    pub enable_loyalty: Option<bool>,
    pub new_integration: Option<bool>,
    pub supported_card_associations: Option<Vec<String>>,
    pub enabled_payment_authentication_types: Option<Vec<String>>,
    pub enabled_payment_phases: Option<Vec<String>>,
    pub threeds_model: Option<String>,
    pub users: Option<Vec<PosUserInput>>,
}

const TEXT_LEN_MAX: usize = 255;

fn check_text(field: &str, value: &Option<String>) -> Result<()> {
    if let Some(v) = value
        && v.chars().count() > TEXT_LEN_MAX
    {
        return Err(validation("4002", format!("{field} is too long")));
    }
    Ok(())
}

fn check_hostname(hostname: &str) -> Result<()> {
    let rest = hostname
        .strip_prefix("https://")
        .or_else(|| hostname.strip_prefix("http://"))
        .unwrap_or(hostname);
    let host = rest.split('/').next().unwrap_or_default();
    let valid = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !valid || hostname.contains(char::is_whitespace) {
        return Err(validation(
            "4002",
            "hostname must be a host name, optionally with scheme and port",
        ));
    }
    Ok(())
}

impl Engine {
    pub async fn create_pos(&self, merchant_id: i64, input: PosInput) -> Result<PosRow> {
        let Some(integrator) = input.pos_integrator else {
            return Err(validation("4001", "posIntegrator is required"));
        };
        if integrator.family().is_none() {
            return Err(validation(
                "4005",
                format!("posIntegrator {integrator} has no connector in this Orkestra yet"),
            ));
        }
        let name = input.name.clone().unwrap_or_default();
        if name.trim().is_empty() {
            return Err(validation("4001", "name is required"));
        }
        let Some(currency) = input.currency else {
            return Err(validation("4001", "currency is required"));
        };
        let now = self.now_ms();
        let (bank_code, _) = integrator.bank();
        let mut row = PosRow {
            id: 0,
            merchant_id,
            alias: format!("{bank_code}-{}-{{id}}", integrator.as_str().to_lowercase()),
            name: name.trim().to_owned(),
            status: input
                .status
                .unwrap_or(PosStatus::Active)
                .as_str()
                .to_owned(),
            pos_integrator: integrator.as_str().to_owned(),
            currency: currency.code().to_owned(),
            order_number: input.order_number.unwrap_or(1),
            doc: PosDoc {
                mode: Some("TEST".into()),
                enable_installment: true,
                supported_card_associations: Vec::new(),
                enabled_payment_authentication_types: vec![
                    "NON_THREE_DS".into(),
                    "THREE_DS".into(),
                ],
                ..PosDoc::default()
            },
            credentials_sealed: String::new(),
            commissions: Vec::new(),
            created_at: now,
            updated_at: now,
        };
        let credentials = self.apply_pos_input(&mut row, PosCredentials::default(), input)?;
        if row.doc.client_id.as_deref().unwrap_or_default().is_empty() {
            return Err(validation("4001", "clientId is required"));
        }
        if row.doc.users.is_empty() {
            return Err(validation(
                "4001",
                "merchantPosUsers needs at least one API user",
            ));
        }
        row.credentials_sealed = self
            .master_key
            .seal_str(&seal_json(&credentials)?, PURPOSE_POS_CREDENTIALS)?;
        let id = self.store.insert_pos(&row).await.map_err(|e| match e {
            store::StoreError::Duplicate(_) => validation("4003", "a POS with this alias exists"),
            other => other.into(),
        })?;
        self.store
            .pos(merchant_id, id)
            .await?
            .ok_or(EngineError::NotFound("merchant pos"))
    }

    pub async fn update_pos(&self, merchant_id: i64, id: i64, input: PosInput) -> Result<PosRow> {
        let mut row = self
            .store
            .pos(merchant_id, id)
            .await?
            .ok_or(EngineError::NotFound("merchant pos"))?;
        let credentials = self.pos_credentials(&row)?;
        let credentials = self.apply_pos_input(&mut row, credentials, input)?;
        row.credentials_sealed = self
            .master_key
            .seal_str(&seal_json(&credentials)?, PURPOSE_POS_CREDENTIALS)?;
        row.updated_at = self.now_ms();
        self.store.update_pos(&row).await?;
        self.store
            .pos(merchant_id, id)
            .await?
            .ok_or(EngineError::NotFound("merchant pos"))
    }

    pub async fn set_pos_commissions(
        &self,
        merchant_id: i64,
        id: i64,
        commissions: Vec<CommissionDoc>,
    ) -> Result<PosRow> {
        let mut row = self
            .store
            .pos(merchant_id, id)
            .await?
            .ok_or(EngineError::NotFound("merchant pos"))?;
        row.commissions = commissions
            .into_iter()
            .enumerate()
            .map(|(i, mut c)| {
                c.id = id * 1000 + i64::try_from(i).unwrap_or(0) + 1;
                c
            })
            .collect();
        row.updated_at = self.now_ms();
        self.store.update_pos(&row).await?;
        Ok(row)
    }

    fn apply_pos_input(
        &self,
        row: &mut PosRow,
        mut credentials: PosCredentials,
        input: PosInput,
    ) -> Result<PosCredentials> {
        for (field, value) in [
            ("name", &input.name),
            ("hostname", &input.hostname),
            ("path", &input.path),
            ("threedsPath", &input.threeds_path),
            ("clientId", &input.client_id),
            ("terminalId", &input.terminal_id),
            ("posnetId", &input.posnet_id),
            ("threedsKey", &input.threeds_key),
        ] {
            check_text(field, value)?;
        }
        if let Some(name) = input.name.filter(|n| !n.trim().is_empty()) {
            row.name = name.trim().to_owned();
        }
        if let Some(status) = input.status {
            if status == PosStatus::Deleted {
                return Err(validation("4002", "use DELETE to delete a POS"));
            }
            row.status = status.as_str().to_owned();
        }
        if let Some(currency) = input.currency {
            row.currency = currency.code().to_owned();
        }
        if let Some(order) = input.order_number {
            row.order_number = order;
        }
        let doc = &mut row.doc;
        if let Some(h) = input.hostname.filter(|h| !h.is_empty()) {
            check_hostname(&h)?;
            doc.hostname = Some(h);
        }
        if let Some(p) = input.path {
            if !p.is_empty() && !p.starts_with('/') {
                return Err(validation("4002", "path must start with /"));
            }
            doc.path = Some(p).filter(|p| !p.is_empty());
        }
        if let Some(p) = input.threeds_path {
            if !p.is_empty() && !p.starts_with('/') {
                return Err(validation("4002", "threedsPath must start with /"));
            }
            doc.threeds_path = Some(p).filter(|p| !p.is_empty());
        }
        if let Some(port) = input.port {
            if !(1..=65535).contains(&port) {
                return Err(validation("4002", "port must be between 1 and 65535"));
            }
            doc.port = Some(port);
        }
        if let Some(mode) = input.mode {
            let mode = mode.to_uppercase();
            if mode != "TEST" && mode != "PROD" {
                return Err(validation("4002", "mode must be TEST or PROD"));
            }
            doc.mode = Some(mode);
        }
        macro_rules! set_opt { ($($f:ident),*) => { $( if let Some(v) = input.$f { doc.$f = Some(v).filter(|v| !v.is_empty()); } )* } }
        set_opt!(
            client_id,
            terminal_id,
            posnet_id,
            threeds_posnet_id,
            threeds_terminal_id
        );
        macro_rules! set_bool { ($($f:ident),*) => { $( if let Some(v) = input.$f { doc.$f = v; } )* } }
        set_bool!(
            enable_foreign_card,
            enable_installment,
            enable_payment_without_cvc,
            enable_loyalty,
            new_integration
        );
        if let Some(v) = input.supported_card_associations {
            doc.supported_card_associations = v;
        }
        if let Some(v) = input.enabled_payment_authentication_types {
            for t in &v {
                if domain::enums::PaymentAuthenticationType::parse(t).is_none() {
                    return Err(validation(
                        "4002",
                        format!("unknown payment authentication type {t}"),
                    ));
                }
            }
            doc.enabled_payment_authentication_types = v;
        }
        if let Some(v) = input.enabled_payment_phases {
            doc.enabled_payment_phases = v;
        }
        if let Some(model) = input.threeds_model {
            if connectors::ThreeDsModel::parse(&model).is_none() {
                return Err(validation(
                    "4002",
                    "threedsModel must be 3d, 3d_pay or 3d_host",
                ));
            }
            doc.threeds_model = Some(model);
        }
        if let Some(key) = input.threeds_key.filter(|k| !k.is_empty()) {
            credentials.threeds_key = Some(key);
        }
        if let Some(users) = input.users {
            let mut new_users = Vec::new();
            let mut new_passwords = Vec::new();
            for (index, user) in users.into_iter().enumerate() {
                let existing = user
                    .id
                    .and_then(|id| doc.users.iter().find(|u| u.id == id).cloned());
                let id = existing
                    .as_ref()
                    .map(|u| u.id)
                    .unwrap_or(row.id * 100 + i64::try_from(index).unwrap_or(0) + 1);
                let username = user
                    .pos_username
                    .or(existing.as_ref().map(|u| u.pos_username.clone()))
                    .filter(|u| !u.trim().is_empty())
                    .ok_or_else(|| validation("4001", "posUsername is required"))?;
                check_text("posUsername", &Some(username.clone()))?;
                let password = match user.pos_password.filter(|p| !p.is_empty()) {
                    Some(p) => p,
                    None => credentials
                        .user_passwords
                        .iter()
                        .find(|(uid, _)| Some(*uid) == user.id)
                        .map(|(_, p)| p.clone())
                        .ok_or_else(|| validation("4001", "posPassword is required"))?,
                };
                check_text("posPassword", &Some(password.clone()))?;
                new_users.push(PosUserDoc {
                    id,
                    pos_username: username,
                    pos_user_type: user.pos_user_type.unwrap_or_else(|| "API".into()),
                    pos_operation_type: user
                        .pos_operation_type
                        .unwrap_or_else(|| "STANDARD".into()),
                });
                new_passwords.push((id, password));
            }
            doc.users = new_users;
            credentials.user_passwords = new_passwords;
        }
        Ok(credentials)
    }

    pub fn pos_credentials(&self, row: &PosRow) -> Result<PosCredentials> {
        let json = self
            .master_key
            .open_str(&row.credentials_sealed, PURPOSE_POS_CREDENTIALS)?;
        serde_json::from_str(&json)
            .map_err(|e| EngineError::Internal(format!("pos credentials: {e}")))
    }

    /// Everything a connector needs about this POS: endpoints resolved from the POS's
    /// overrides or the bank's defaults for its mode, and the opened credentials.
    pub fn pos_config(&self, row: &PosRow) -> Result<PosConfig> {
        let integrator = PosIntegrator::parse(&row.pos_integrator)
            .ok_or_else(|| EngineError::Internal("unknown integrator".into()))?;
        let production = row.doc.mode.as_deref() == Some("PROD");
        let defaults = Registry::default_endpoints(integrator, production)
            .ok_or_else(|| EngineError::Internal("integrator has no connector".into()))?;
        let mut base = row.doc.hostname.clone().unwrap_or(defaults.hostname);
        if !base.starts_with("http://") && !base.starts_with("https://") {
            base = format!("https://{base}");
        }
        let base = base.trim_end_matches('/').to_owned();
        let has_port = base.rsplit("//").next().is_some_and(|h| h.contains(':'));
        let base = match row.doc.port {
            Some(port) if !has_port => format!("{base}:{port}"),
            _ => base,
        };
        let path = row.doc.path.clone().unwrap_or(defaults.path);
        let threeds_path = row
            .doc
            .threeds_path
            .clone()
            .unwrap_or(defaults.threeds_path);
        let credentials = self.pos_credentials(row)?;
        let user = row.doc.users.first();
        let password = user
            .and_then(|u| {
                credentials
                    .user_passwords
                    .iter()
                    .find(|(id, _)| *id == u.id)
            })
            .map(|(_, p)| p.clone())
            .unwrap_or_default();
        Ok(PosConfig {
            integrator,
            api_url: format!("{base}{path}"),
            threeds_url: format!("{base}{threeds_path}"),
            client_id: row.doc.client_id.clone().unwrap_or_default(),
            terminal_id: row.doc.terminal_id.clone(),
            // YKB identifies the 3D merchant by its Posnet ID: Craftgate's `posnetId` field.
            username: match (
                integrator,
                row.doc.posnet_id.clone().filter(|p| !p.is_empty()),
            ) {
                (PosIntegrator::Ykb, Some(posnet_id)) => posnet_id,
                _ => user.map(|u| u.pos_username.clone()).unwrap_or_default(),
            },
            password: Secret::new(password),
            store_key: credentials.threeds_key.map(Secret::new),
            timeout: self.config.bank_timeout,
        })
    }
}

fn seal_json(credentials: &PosCredentials) -> Result<String> {
    serde_json::to_string(credentials).map_err(|e| EngineError::Internal(e.to_string()))
}

/// What the panel's "test connection" found out about a POS's credentials and endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionCheck {
    /// The bank answered a status inquiry with these credentials.
    Accepted,
    /// The bank refused the inquiry (wrong credentials, unknown merchant…), in its words;
    /// `code` is empty when the refusal came as an error reply rather than a decline.
    Rejected { code: String, message: String },
    /// No usable answer (unreachable, timeout, an unreadable reply).
    Failed(String),
}

impl Engine {
    /// Proves a POS's credentials with a real call: a status inquiry for an order id that
    /// cannot exist. A bank that says "no such order" has accepted the credentials; one
    /// that refuses says why. Nothing is charged.
    pub async fn test_pos_connection(
        &self,
        merchant_id: i64,
        pos_id: i64,
    ) -> Result<ConnectionCheck> {
        let pos = self
            .store
            .pos(merchant_id, pos_id)
            .await?
            .ok_or(EngineError::NotFound("merchant pos"))?;
        let family = crate::payments::pos_family(&pos).ok_or(EngineError::NotFound("connector"))?;
        let config = self.pos_config(&pos)?;
        let probe = format!("ORKCHK{}", crate::merchants::random_key(12));
        let check = match self
            .connectors
            .get(family)
            .sync_payment(&config, &probe)
            .await
        {
            Ok(connectors::PaymentSync::NotFound | connectors::PaymentSync::Approved { .. }) => {
                ConnectionCheck::Accepted
            }
            Ok(connectors::PaymentSync::Declined(d)) => ConnectionCheck::Rejected {
                code: d.code,
                message: d.message,
            },
            // The bank answered, but not with an order status: with these connectors that
            // is the bank's refusal of the request (wrong user, password, terminal).
            Err(e @ connectors::ConnectorError::BadResponse(_)) => ConnectionCheck::Rejected {
                code: String::new(),
                message: e.to_string(),
            },
            Err(e) => ConnectionCheck::Failed(e.to_string()),
        };
        tracing::info!(pos_id, ?check, "pos connection test");
        Ok(check)
    }
}
