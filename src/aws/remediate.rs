//! Write calls on access keys: `UpdateAccessKey` (Active/Inactive), `DeleteAccessKey`,
//! `CreateAccessKey`. Each returns AWS's request id (for the journal). These functions only
//! call AWS; the pre-checks, the journal and the re-read live in [`crate::remediate`].
//!
//! The new secret from `CreateAccessKey` is wrapped in a [`SecretString`] at once and is never
//! formatted, logged or stored anywhere else.

use super::{Error, classify, to_utc};
use crate::model::{AccessKeyId, KeyStatus, Timestamp};
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
}

fn write_error<E, R>(action: &'static str, e: aws_smithy_runtime_api::client::result::SdkError<E, R>) -> WriteError
where
    E: aws_sdk_iam::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
    aws_smithy_runtime_api::client::result::SdkError<E, R>: RequestId,
{
    let request_id = e.request_id().map(str::to_owned);
    WriteError {
        error: classify(action, e),
        request_id,
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
    let status = match status {
        KeyStatus::Active => StatusType::Active,
        KeyStatus::Inactive => StatusType::Inactive,
    };
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

/// `DeleteAccessKey`. Returns the request id.
///
/// # Errors
/// [`WriteError`], as [`set_status`].
pub async fn delete(config: &SdkConfig, user: &str, key: &AccessKeyId) -> Result<Option<String>, WriteError> {
    let out = Client::new(config)
        .delete_access_key()
        .user_name(user)
        .access_key_id(key.as_str())
        .send()
        .await
        .map_err(|e| write_error("iam:DeleteAccessKey", e))?;
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

/// `CreateAccessKey` for `user`.
///
/// # Errors
/// [`WriteError`]: `LimitExceeded` when the user already has two keys, `NoSuchEntity`,
/// `AccessDenied`…
pub async fn create(config: &SdkConfig, user: &str) -> Result<NewKey, WriteError> {
    let out = Client::new(config)
        .create_access_key()
        .user_name(user)
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
    })?;
    Ok(NewKey {
        id: AccessKeyId(key.access_key_id().to_owned()),
        created: key.create_date().map(to_utc).unwrap_or_else(chrono::Utc::now),
        secret: SecretString::from(key.secret_access_key().to_owned()),
        request_id,
    })
}
