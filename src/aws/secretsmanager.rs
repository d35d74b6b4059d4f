//! Secrets Manager hand-off of a new access key: `CreateSecret`, or `PutSecretValue` when a
//! secret of that name exists, with the JSON value `{"AccessKeyId": …, "SecretAccessKey": …}`
//! (the shape applications read). The value is built in a zeroizing buffer, handed to the SDK
//! request and never formatted, logged or returned.

use super::remediate::NewKey;
use super::{Error, classify};
use aws_config::SdkConfig;
use aws_sdk_secretsmanager::Client;
use secrecy::ExposeSecret;

/// Where a key was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The secret's ARN.
    pub arn: String,
    /// The version just written.
    pub version_id: Option<String>,
    /// True when the secret was created; false when a new value was put on an existing one.
    pub created: bool,
}

/// Stores `key` under the secret `name` in `config`'s account and region: `CreateSecret`
/// (description naming the key and `user`), or `PutSecretValue` when `name` exists
/// (`ResourceExistsException`).
///
/// # Errors
/// [`Error`] of `secretsmanager:CreateSecret` or `secretsmanager:PutSecretValue`:
/// AccessDenied, a bad name (`InvalidParameterException`), a secret scheduled for deletion
/// (`InvalidRequestException`), transport.
pub async fn store_key(config: &SdkConfig, name: &str, user: &str, key: &NewKey) -> Result<Stored, Error> {
    let value = zeroize::Zeroizing::new(
        serde_json::json!({
            "AccessKeyId": key.id.0,
            "SecretAccessKey": key.secret.expose_secret(),
        })
        .to_string(),
    );
    let client = Client::new(config);
    let created = client
        .create_secret()
        .name(name)
        .description(format!(
            "AWS access key {} of IAM user {user} (keytriage rotation)",
            key.id
        ))
        .secret_string(value.as_str())
        .send()
        .await;
    match created {
        Ok(out) => Ok(Stored {
            arn: out.arn().unwrap_or_default().to_owned(),
            version_id: out.version_id().map(str::to_owned),
            created: true,
        }),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_exists_exception()) => {
            let out = client
                .put_secret_value()
                .secret_id(name)
                .secret_string(value.as_str())
                .send()
                .await
                .map_err(|e| classify("secretsmanager:PutSecretValue", e))?;
            Ok(Stored {
                arn: out.arn().unwrap_or_default().to_owned(),
                version_id: out.version_id().map(str::to_owned),
                created: false,
            })
        }
        Err(e) => Err(classify("secretsmanager:CreateSecret", e)),
    }
}
