//! Merchant panel users: argon2id passwords, lockout, optional TOTP second factor,
//! server-side sessions with a CSRF token each, roles, and the audit log.
//!
//! A session token is 256 random bits handed to the browser once; only its SHA-256 is
//! stored. Sign-in always creates a new session (no fixation), and a wrong email costs the
//! same password hash as a wrong password, so the answer time does not reveal accounts.

use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use store::StoreError;
use store::panel::{NewAudit, PanelUserRow};
use subtle::ConstantTimeEq;

use crate::{Engine, EngineError, Result, validation};

/// Consecutive wrong passwords (or codes) before the account locks.
pub const SIGN_IN_FAILURES_MAX: i64 = 5;
/// How long a locked account stays locked.
pub const LOCKOUT: Duration = Duration::from_secs(15 * 60);
/// How long a session lives from sign-in.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
pub const PASSWORD_LEN_MIN: usize = 10;
const PURPOSE_TOTP: &str = "panel-totp-secret";
const TOTP_STEP_SECS: i64 = 30;

/// What a panel user may do. Owners and admins everything; operators payments and refunds;
/// viewers read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Owner,
    Admin,
    Operator,
    Viewer,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "operator" => Some(Role::Operator),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Viewer => "viewer",
        }
    }

    /// Cancel and refund payments.
    pub fn can_refund(self) -> bool {
        matches!(self, Role::Owner | Role::Admin | Role::Operator)
    }

    /// POSes, commissions, routing, links, webhooks, keys, wallets, users.
    pub fn can_configure(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

/// A signed-in user, as the panel sees it.
#[derive(Debug, Clone)]
pub struct PanelUser {
    pub id: i64,
    pub merchant_id: i64,
    pub email: String,
    pub role: Role,
    pub totp_enabled: bool,
}

impl PanelUser {
    fn from_row(row: &PanelUserRow) -> Result<PanelUser> {
        Ok(PanelUser {
            id: row.id,
            merchant_id: row.merchant_id,
            email: row.email.clone(),
            role: Role::parse(&row.role)
                .ok_or_else(|| EngineError::Internal(format!("unknown role {}", row.role)))?,
            totp_enabled: row.totp_secret_sealed.is_some(),
        })
    }
}

/// A live session: the user and the CSRF token every form of this session must carry.
#[derive(Debug, Clone)]
pub struct PanelSession {
    pub user: PanelUser,
    pub csrf_token: String,
}

/// Why a sign-in failed. The panel shows one message for all but `Locked` and
/// `TotpRequired`, so it never tells which part was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInError {
    InvalidCredentials,
    /// Too many failures; try again after this epoch-ms instant.
    Locked {
        until: i64,
    },
    /// Password right; the account has a second factor and no (or a wrong) code came.
    TotpRequired,
}

pub enum SignIn {
    /// The session token for the cookie (shown once) and the session.
    Ok {
        token: String,
        session: PanelSession,
    },
    Failed(SignInError),
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| EngineError::Internal(format!("password hash: {e}")))
}

fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A valid argon2id hash of nothing anyone knows: verified against when the email is
/// unknown, so that answer takes as long as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&random_token()).unwrap_or_default())
}

fn check_password_policy(password: &str) -> Result<()> {
    if password.chars().count() < PASSWORD_LEN_MIN {
        return Err(validation(
            "4000",
            format!("the password must have at least {PASSWORD_LEN_MIN} characters"),
        ));
    }
    if password.len() > 1024 {
        return Err(validation("4000", "the password is too long"));
    }
    Ok(())
}

fn normalize_email(email: &str) -> Result<String> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
        })
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(email)
    } else {
        Err(validation("4000", "a valid email address is required"))
    }
}

/// RFC 6238 TOTP (HMAC-SHA1, 6 digits, 30-second steps) for one time step.
pub fn totp_code(secret: &[u8], step: i64) -> String {
    // HMAC takes keys of any length; the error arm cannot happen, and an empty code
    // never matches (see `totp_matches`).
    let Ok(mut mac) = <Hmac<sha1::Sha1> as Mac>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let value = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    format!("{:06}", value % 1_000_000)
}

/// Accepts the code of the current step or of one step either side (clock drift).
pub fn totp_matches(secret: &[u8], code: &str, now_ms: i64) -> bool {
    let step = now_ms.div_euclid(1000) / TOTP_STEP_SECS;
    let code = code.trim();
    if code.len() != 6 {
        return false;
    }
    let mut matched = subtle::Choice::from(0);
    for s in [step - 1, step, step + 1] {
        matched |= totp_code(secret, s).as_bytes().ct_eq(code.as_bytes());
    }
    matched.into()
}

/// Base32 (RFC 4648, no padding): how authenticator apps take a TOTP secret.
pub fn base32(bytes: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(bytes)
}

impl Engine {
    /// Creates a panel user (`orkestra user create`, or an owner in the panel).
    pub async fn create_panel_user(
        &self,
        merchant_id: i64,
        email: &str,
        password: &str,
        role: Role,
        actor: &str,
    ) -> Result<PanelUser> {
        let email = normalize_email(email)?;
        check_password_policy(password)?;
        if self.store.merchant_by_id(merchant_id).await?.is_none() {
            return Err(EngineError::NotFound("merchant"));
        }
        let password = password.to_owned();
        let hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| EngineError::Internal(e.to_string()))??;
        let now = self.now_ms();
        let row = match self
            .store
            .insert_panel_user(merchant_id, &email, &hash, role.as_str(), now)
            .await
        {
            Err(StoreError::Duplicate(_)) => {
                return Err(validation("4000", "a user with this email already exists"));
            }
            other => other?,
        };
        self.audit(
            merchant_id,
            None,
            actor,
            "user.create",
            Some(&email),
            Some(role.as_str()),
        )
        .await?;
        PanelUser::from_row(&row)
    }

    /// Checks email, password and (when enrolled) the TOTP code; on success opens a new
    /// session. Failures count towards the lockout.
    pub async fn sign_in(&self, email: &str, password: &str, totp: Option<&str>) -> Result<SignIn> {
        let email = email.trim().to_lowercase();
        let user = self.store.panel_user_by_email(&email).await?;
        let phc = user
            .as_ref()
            .map(|u| u.password_hash.clone())
            .unwrap_or_else(|| decoy_hash().to_owned());
        let now = self.now_ms();
        if let Some(until) = user
            .as_ref()
            .and_then(|u| u.locked_until)
            .filter(|t| *t > now)
        {
            return Ok(SignIn::Failed(SignInError::Locked { until }));
        }
        let attempt = password.to_owned();
        let password_ok = tokio::task::spawn_blocking(move || verify_password(&attempt, &phc))
            .await
            .map_err(|e| EngineError::Internal(e.to_string()))?;
        let Some(user) = user.filter(|_| password_ok) else {
            if let Some(user) = self.store.panel_user_by_email(&email).await? {
                return self.count_failure(&user).await;
            }
            return Ok(SignIn::Failed(SignInError::InvalidCredentials));
        };
        if let Some(sealed) = &user.totp_secret_sealed {
            let secret = self.master_key.open(sealed, PURPOSE_TOTP)?;
            match totp {
                None | Some("") => return Ok(SignIn::Failed(SignInError::TotpRequired)),
                Some(code) if !totp_matches(&secret, code, now) => {
                    if let SignIn::Failed(SignInError::Locked { until }) =
                        self.count_failure(&user).await?
                    {
                        return Ok(SignIn::Failed(SignInError::Locked { until }));
                    }
                    return Ok(SignIn::Failed(SignInError::TotpRequired));
                }
                Some(_) => {}
            }
        }
        self.store.reset_failed_sign_ins(user.id).await?;
        let token = random_token();
        let csrf_token = random_token();
        self.store
            .insert_panel_session(
                &token_hash(&token),
                user.id,
                &csrf_token,
                now,
                now + SESSION_TTL.as_millis() as i64,
            )
            .await?;
        self.audit(
            user.merchant_id,
            Some(user.id),
            &user.email,
            "session.sign_in",
            None,
            None,
        )
        .await?;
        Ok(SignIn::Ok {
            token,
            session: PanelSession {
                user: PanelUser::from_row(&user)?,
                csrf_token,
            },
        })
    }

    async fn count_failure(&self, user: &PanelUserRow) -> Result<SignIn> {
        let now = self.now_ms();
        let lock_until = now + LOCKOUT.as_millis() as i64;
        let failures = self
            .store
            .record_failed_sign_in(user.id, SIGN_IN_FAILURES_MAX, lock_until)
            .await?;
        if failures >= SIGN_IN_FAILURES_MAX {
            if failures == SIGN_IN_FAILURES_MAX {
                self.audit(
                    user.merchant_id,
                    Some(user.id),
                    &user.email,
                    "session.locked",
                    None,
                    None,
                )
                .await?;
            }
            return Ok(SignIn::Failed(SignInError::Locked { until: lock_until }));
        }
        Ok(SignIn::Failed(SignInError::InvalidCredentials))
    }

    /// The session behind a cookie token, if it is live and its user still exists.
    pub async fn panel_session(&self, token: &str) -> Result<Option<PanelSession>> {
        if token.is_empty() || token.len() > 128 {
            return Ok(None);
        }
        let Some(session) = self
            .store
            .panel_session(&token_hash(token), self.now_ms())
            .await?
        else {
            return Ok(None);
        };
        let Some(user) = self.store.panel_user(session.user_id).await? else {
            return Ok(None);
        };
        Ok(Some(PanelSession {
            user: PanelUser::from_row(&user)?,
            csrf_token: session.csrf_token,
        }))
    }

    pub async fn sign_out(&self, token: &str, user: &PanelUser) -> Result<()> {
        self.store.delete_panel_session(&token_hash(token)).await?;
        self.audit(
            user.merchant_id,
            Some(user.id),
            &user.email,
            "session.sign_out",
            None,
            None,
        )
        .await
    }

    /// A new TOTP secret for enrolment (not stored until confirmed with a code).
    pub fn new_totp_secret(&self) -> Vec<u8> {
        let mut secret = vec![0u8; 20];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        secret
    }

    /// Turns the second factor on once the user proves their app has the secret.
    pub async fn enable_totp(&self, user: &PanelUser, secret: &[u8], code: &str) -> Result<()> {
        if secret.len() < 16 || !totp_matches(secret, code, self.now_ms()) {
            return Err(validation("4000", "the code does not match"));
        }
        let sealed = self.master_key.seal(secret, PURPOSE_TOTP)?;
        self.store
            .set_panel_user_totp(user.id, Some(&sealed))
            .await?;
        self.audit(
            user.merchant_id,
            Some(user.id),
            &user.email,
            "user.totp_enabled",
            None,
            None,
        )
        .await
    }

    pub async fn audit(
        &self,
        merchant_id: i64,
        user_id: Option<i64>,
        actor: &str,
        action: &str,
        subject: Option<&str>,
        detail: Option<&str>,
    ) -> Result<()> {
        self.store
            .insert_audit(NewAudit {
                merchant_id,
                user_id,
                actor,
                action,
                subject,
                detail,
                at: self.now_ms(),
            })
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 appendix B, SHA-1 rows (8 digits there; the last 6 digits here).
    #[test]
    fn totp_matches_the_rfc_6238_vectors() {
        let secret = b"12345678901234567890";
        for (time, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(totp_code(secret, time / 30), code, "t={time}");
            assert!(totp_matches(secret, code, time * 1000));
        }
        assert!(!totp_matches(secret, "000000", 59_000));
        assert!(!totp_matches(secret, "", 59_000));
    }

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let phc = hash_password("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &phc));
        assert!(!verify_password("correct horse batterz", &phc));
        assert!(!verify_password("x", "not a phc string"));
    }

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(normalize_email(" Ops@Shop.COM ").unwrap(), "ops@shop.com");
        for bad in [
            "",
            "no-at",
            "@shop.com",
            "a@nodot",
            "a b@shop.com",
            "a@.com",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn roles_grant_what_they_say() {
        assert!(Role::Operator.can_refund() && !Role::Operator.can_configure());
        assert!(!Role::Viewer.can_refund() && !Role::Viewer.can_configure());
        assert!(Role::Admin.can_configure() && Role::Owner.can_refund());
        for r in [Role::Owner, Role::Admin, Role::Operator, Role::Viewer] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
    }
}
