//! Write calls on a user's credentials: `UpdateAccessKey` (Active/Inactive),
//! `DeleteAccessKey`, `CreateAccessKey`; `UpdateSSHPublicKey` / `DeleteSSHPublicKey`,
//! `UpdateSigningCertificate` / `DeleteSigningCertificate`,
//! `UpdateServiceSpecificCredential` / `DeleteServiceSpecificCredential` ([`set_credential_status`],
//! [`delete_credential`]); `DeleteLoginProfile` ([`delete_login_profile`]). Each returns AWS's
//! request id (for the journal). These functions only call AWS; the pre-checks, the journal
//! and the re-read live in [`crate::remediate`].
//!
//! Every delete and `CreateAccessKey` are not safe to repeat (a retried create makes a
//! second key or fails `LimitExceeded`; a retried delete fails `NoSuchEntity` after the key
//! is gone), so they are made in exactly one attempt whatever the client's retry config.
//! `UpdateAccessKey` sets a status and keeps the client's retries.
//!
//! The new secret from `CreateAccessKey` is wrapped in a [`SecretString`] at once and is never
//! formatted, logged or stored anywhere else.

use super::{Error, classify, to_utc};
use crate::model::{AccessKeyId, CredentialKind, CredentialRef, KeyStatus, Timestamp};
use aws_config::SdkConfig;
use aws_sdk_iam::Client;
use aws_sdk_iam::operation::RequestId;
use aws_sdk_iam::types::StatusType;
use secrecy::SecretString;

/// A failed write: the classified error and AWS's request id when there was a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteError {
    /// What failed.
    pub error: Error,
    /// `x-amzn-RequestId` of the failed call.
    pub request_id: Option<String>,
    /// True when the call may have taken effect all the same: no HTTP response (connection
    /// lost, timeout) or a 5xx. False for a 4xx: AWS refused it.
    pub uncertain: bool,
}

/// Client config for one call made in a single attempt (no SDK retry).
fn single_attempt() -> aws_sdk_iam::config::Builder {
    aws_sdk_iam::config::Builder::default()
        .retry_config(aws_sdk_iam::config::retry::RetryConfig::standard().with_max_attempts(1))
}

/// The refusal of a write on a role: roles are shown, never changed by keytriage (deleting
/// one needs its policies torn down first).
fn role_refused() -> WriteError {
    WriteError {
        error: Error::Unexpected {
            action: "iam:DeleteRole",
            code: "NotSupported".into(),
            message: "keytriage does not change roles; review the role in the IAM console".into(),
        },
        request_id: None,
        uncertain: false,
    }
}

fn write_error<E>(
    action: &'static str,
    e: aws_smithy_runtime_api::client::result::SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> WriteError
where
    E: aws_sdk_iam::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    aws_smithy_runtime_api::client::result::SdkError<E, aws_smithy_runtime_api::http::Response>: RequestId,
{
    use aws_smithy_runtime_api::client::result::SdkError;
    let request_id = e.request_id().map(str::to_owned);
    let uncertain = match &e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(s) => s.raw().status().is_server_error(),
        _ => false,
    };
    WriteError {
        error: classify(action, e),
        request_id,
        uncertain,
    }
}

/// `UpdateAccessKey`: sets a key Active or Inactive. Returns the request id.
///
/// # Errors
/// [`WriteError`]: `NoSuchEntity` (user or key gone), `AccessDenied`, throttling…
pub async fn set_status(
    config: &SdkConfig,
    user: &str,
    key: &AccessKeyId,
    status: KeyStatus,
) -> Result<Option<String>, WriteError> {
    let status = status_type(status);
    let out = Client::new(config)
        .update_access_key()
        .user_name(user)
        .access_key_id(key.as_str())
        .status(status)
        .send()
        .await
        .map_err(|e| write_error("iam:UpdateAccessKey", e))?;
    Ok(out.request_id().map(str::to_owned))
}

/// `DeleteAccessKey`, in a single attempt (never retried). Returns the request id.
///
/// # Errors
/// [`WriteError`], as [`set_status`]; `uncertain` when the key may be gone all the same.
pub async fn delete(config: &SdkConfig, user: &str, key: &AccessKeyId) -> Result<Option<String>, WriteError> {
    let out = Client::new(config)
        .delete_access_key()
        .user_name(user)
        .access_key_id(key.as_str())
        .customize()
        .config_override(single_attempt())
        .send()
        .await
        .map_err(|e| write_error("iam:DeleteAccessKey", e))?;
    Ok(out.request_id().map(str::to_owned))
}

fn status_type(status: KeyStatus) -> StatusType {
    match status {
        KeyStatus::Active => StatusType::Active,
        KeyStatus::Inactive => StatusType::Inactive,
    }
}

/// Sets an SSH public key (`UpdateSSHPublicKey`), signing certificate
/// (`UpdateSigningCertificate`) or service-specific credential
/// (`UpdateServiceSpecificCredential`) of `user` Active or Inactive, keeping the client's
/// retries (it sets a status). Returns the request id.
///
/// # Errors
/// [`WriteError`]: `NoSuchEntity` (user or credential gone), `AccessDenied` naming the
/// action, throttling…
pub async fn set_credential_status(
    config: &SdkConfig,
    user: &str,
    credential: &CredentialRef,
    status: KeyStatus,
) -> Result<Option<String>, WriteError> {
    let client = Client::new(config);
    let id = credential.id.as_str();
    let status = status_type(status);
    let request_id = match credential.kind {
        CredentialKind::Role => return Err(role_refused()),
        CredentialKind::SshPublicKey => client
            .update_ssh_public_key()
            .user_name(user)
            .ssh_public_key_id(id)
            .status(status)
            .send()
            .await
            .map_err(|e| write_error("iam:UpdateSSHPublicKey", e))?
            .request_id()
            .map(str::to_owned),
        CredentialKind::SigningCertificate => client
            .update_signing_certificate()
            .user_name(user)
            .certificate_id(id)
            .status(status)
            .send()
            .await
            .map_err(|e| write_error("iam:UpdateSigningCertificate", e))?
            .request_id()
            .map(str::to_owned),
        CredentialKind::ServiceSpecific => client
            .update_service_specific_credential()
            .user_name(user)
            .service_specific_credential_id(id)
            .status(status)
            .send()
            .await
            .map_err(|e| write_error("iam:UpdateServiceSpecificCredential", e))?
            .request_id()
            .map(str::to_owned),
    };
    Ok(request_id)
}

/// Deletes an SSH public key (`DeleteSSHPublicKey`), signing certificate
/// (`DeleteSigningCertificate`) or service-specific credential
/// (`DeleteServiceSpecificCredential`) of `user`, in a single attempt (never retried).
/// Returns the request id.
///
/// # Errors
/// [`WriteError`], as [`set_credential_status`]; `uncertain` when it may be gone all the same.
pub async fn delete_credential(
    config: &SdkConfig,
    user: &str,
    credential: &CredentialRef,
) -> Result<Option<String>, WriteError> {
    let client = Client::new(config);
    let id = credential.id.as_str();
    let request_id = match credential.kind {
        CredentialKind::Role => return Err(role_refused()),
        CredentialKind::SshPublicKey => client
            .delete_ssh_public_key()
            .user_name(user)
            .ssh_public_key_id(id)
            .customize()
            .config_override(single_attempt())
            .send()
            .await
            .map_err(|e| write_error("iam:DeleteSSHPublicKey", e))?
            .request_id()
            .map(str::to_owned),
        CredentialKind::SigningCertificate => client
            .delete_signing_certificate()
            .user_name(user)
            .certificate_id(id)
            .customize()
            .config_override(single_attempt())
            .send()
            .await
            .map_err(|e| write_error("iam:DeleteSigningCertificate", e))?
            .request_id()
            .map(str::to_owned),
        CredentialKind::ServiceSpecific => client
            .delete_service_specific_credential()
            .user_name(user)
            .service_specific_credential_id(id)
            .customize()
            .config_override(single_attempt())
            .send()
            .await
            .map_err(|e| write_error("iam:DeleteServiceSpecificCredential", e))?
            .request_id()
            .map(str::to_owned),
    };
    Ok(request_id)
}

/// `DeleteLoginProfile`: removes `user`'s console password, in a single attempt (never
/// retried). Returns the request id.
///
/// # Errors
/// [`WriteError`]: `NoSuchEntity` (no password any more, or no user), `AccessDenied`…
pub async fn delete_login_profile(config: &SdkConfig, user: &str) -> Result<Option<String>, WriteError> {
    let out = Client::new(config)
        .delete_login_profile()
        .user_name(user)
        .customize()
        .config_override(single_attempt())
        .send()
        .await
        .map_err(|e| write_error("iam:DeleteLoginProfile", e))?;
    Ok(out.request_id().map(str::to_owned))
}

/// A key just created: its id and creation time, and its secret (shown once, then dropped,
/// which zeroizes it).
pub struct NewKey {
    /// The new key's id.
    pub id: AccessKeyId,
    /// Creation time (UTC).
    pub created: Timestamp,
    /// The secret access key. `Debug` prints `[REDACTED]`.
    pub secret: SecretString,
    /// Request id of `CreateAccessKey`.
    pub request_id: Option<String>,
}

impl std::fmt::Debug for NewKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewKey")
            .field("id", &self.id)
            .field("created", &self.created)
            .finish_non_exhaustive()
    }
}

/// `CreateAccessKey` for `user`, in a single attempt (never retried).
///
/// # Errors
/// `uncertain` when a key may have been created all the same (its secret is lost);
/// [`WriteError`]: `LimitExceeded` when the user already has two keys, `NoSuchEntity`,
/// `AccessDenied`…
pub async fn create(config: &SdkConfig, user: &str) -> Result<NewKey, WriteError> {
    let out = Client::new(config)
        .create_access_key()
        .user_name(user)
        .customize()
        .config_override(single_attempt())
        .send()
        .await
        .map_err(|e| write_error("iam:CreateAccessKey", e))?;
    let request_id = out.request_id().map(str::to_owned);
    let key = out.access_key().ok_or_else(|| WriteError {
        error: Error::Unexpected {
            action: "iam:CreateAccessKey",
            code: "InvalidResponse".into(),
            message: "no AccessKey in the response".into(),
        },
        request_id: request_id.clone(),
        uncertain: false,
    })?;
    Ok(NewKey {
        id: AccessKeyId::from(key.access_key_id().to_owned()),
        created: key.create_date().map(to_utc).unwrap_or_else(chrono::Utc::now),
        secret: SecretString::from(key.secret_access_key().to_owned()),
        request_id,
    })
}

/// `sts:GetCallerIdentity` signed with the new key `key` (its secret goes into a credentials
/// provider and nowhere else), through `base`'s endpoint and region, in one attempt with a
/// 5 s connect and 10 s attempt timeout (the caller retries for IAM's propagation delay).
/// Returns the ARN the key signs as, e.g. `arn:aws:iam::111111111111:user/ci-deploy`.
///
/// # Errors
/// [`Error`]: `InvalidClientTokenId` while IAM has not propagated the key yet, AccessDenied,
/// transport.
pub async fn caller_arn_of_new_key(base: &SdkConfig, key: &NewKey) -> Result<String, Error> {
    use secrecy::ExposeSecret;
    let credentials = aws_credential_types::Credentials::new(
        key.id.0.clone(),
        key.secret.expose_secret().to_owned(),
        None,
        None,
        "keytriage-new-key",
    );
    let config = base
        .to_builder()
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(
            credentials,
        ))
        .build();
    let out = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .customize()
        .config_override(
            aws_sdk_sts::config::Builder::default()
                .retry_config(aws_sdk_sts::config::retry::RetryConfig::standard().with_max_attempts(1))
                .timeout_config(
                    aws_config::timeout::TimeoutConfig::builder()
                        .connect_timeout(std::time::Duration::from_secs(5))
                        .operation_attempt_timeout(std::time::Duration::from_secs(10))
                        .build(),
                ),
        )
        .send()
        .await
        .map_err(|e| classify("sts:GetCallerIdentity", e))?;
    Ok(out.arn().unwrap_or_default().to_owned())
}
