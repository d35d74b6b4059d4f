//! The AWS side: the only module that imports `aws_sdk_*`.
//!
//! It builds the base SDK configuration, resolves the caller's identity and partition,
//! derives per-account configurations (the caller's own credentials in its own account, an
//! `AssumeRole` into the audit role elsewhere), lists the organization's accounts and reads
//! each account's inventory. SDK output is converted into `model` types here; errors are
//! classified into [`Error`] at this boundary.

pub mod credential_report;
pub mod inventory;
pub mod org;
pub mod remediate;

use crate::model::{Account, AccountId, ScanError};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::result::SdkError;
use std::time::Duration;

/// An AWS failure, classified. Its [`Error::code`] is AWS's error code where AWS sent one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// IAM, an SCP or a permission boundary refused the call.
    #[error("access denied on {action}: {message}")]
    AccessDenied {
        /// The API action, e.g. `iam:ListUsers`.
        action: &'static str,
        /// AWS's code (`AccessDenied`, `AccessDeniedException`).
        code: String,
        /// AWS's message.
        message: String,
    },
    /// The audit (or remediation) role could not be assumed.
    #[error(
        "cannot assume {role_arn} ({code}): {message}; check that the role exists in the account and trusts the caller"
    )]
    AssumeRole {
        /// The role ARN tried.
        role_arn: String,
        /// AWS's code.
        code: String,
        /// AWS's message.
        message: String,
    },
    /// AWS kept throttling after the SDK's retries ran out.
    #[error("throttled on {action} after retries ({code}); lower --concurrency and rescan")]
    Throttled {
        /// The API action.
        action: &'static str,
        /// AWS's code (`Throttling`, `TooManyRequestsException`…).
        code: String,
    },
    /// The user, key or other entity does not exist (any more).
    #[error("{action}: no such entity: {message}")]
    NoSuchEntity {
        /// The API action.
        action: &'static str,
        /// AWS's message.
        message: String,
    },
    /// AWS could not be reached, or the connection broke, or a call timed out.
    #[error("could not reach AWS for {action}: {message}")]
    Transport {
        /// The API action.
        action: &'static str,
        /// What the HTTP stack said.
        message: String,
    },
    /// No usable credentials for the caller (no profile, expired SSO session…).
    #[error("no usable AWS credentials{}: {message}; run `aws sso login{}` or set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", profile.as_ref().map(|p| format!(" for profile '{p}'")).unwrap_or_default(), profile.as_ref().map(|p| format!(" --profile {p}")).unwrap_or_default())]
    NoCredentials {
        /// `--profile`, if one was named.
        profile: Option<String>,
        /// What the credential chain said.
        message: String,
    },
    /// The credential report was not ready by the deadline.
    #[error("credential report not ready after {0:?}; rescan later")]
    CredentialReportTimeout(Duration),
    /// The credential report could not be parsed.
    #[error("credential report unreadable: {0}")]
    CredentialReportUnreadable(String),
    /// Any other error AWS answered with.
    #[error("{action} failed ({code}): {message}")]
    Unexpected {
        /// The API action.
        action: &'static str,
        /// AWS's code, or `Unknown`.
        code: String,
        /// AWS's message.
        message: String,
    },
}

impl Error {
    /// AWS's error code, or ours: `Transport`, `CredentialReportTimeout`, `CredentialReportUnreadable`.
    pub fn code(&self) -> &str {
        match self {
            Self::AccessDenied { code, .. }
            | Self::AssumeRole { code, .. }
            | Self::Throttled { code, .. }
            | Self::Unexpected { code, .. } => code,
            Self::NoSuchEntity { .. } => "NoSuchEntity",
            Self::Transport { .. } => "Transport",
            Self::NoCredentials { .. } => "NoCredentials",
            Self::CredentialReportTimeout(_) => "CredentialReportTimeout",
            Self::CredentialReportUnreadable(_) => "CredentialReportUnreadable",
        }
    }

    /// The `scan.error` object of the JSON contract.
    pub fn to_scan_error(&self) -> ScanError {
        ScanError {
            code: self.code().to_owned(),
            message: self.to_string(),
        }
    }

    /// True for [`Error::NoSuchEntity`].
    pub fn is_no_such_entity(&self) -> bool {
        matches!(self, Self::NoSuchEntity { .. })
    }
}

const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
];

/// The messages of an error and its sources, joined with ": " (repeats dropped), without
/// the Debug dumps `DisplayErrorContext` appends.
pub(crate) fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// Classifies an SDK error for `action` (e.g. `iam:ListUsers`).
pub(crate) fn classify<E, R>(action: &'static str, err: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match &err {
        SdkError::ServiceError(_) => {
            let code = err.code().unwrap_or("Unknown").to_owned();
            let message = err.message().unwrap_or_default().to_owned();
            match code.as_str() {
                "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" => {
                    Error::AccessDenied { action, code, message }
                }
                "NoSuchEntity" | "NoSuchEntityException" => Error::NoSuchEntity { action, message },
                c if THROTTLING_CODES.contains(&c) => Error::Throttled { action, code },
                _ => Error::Unexpected { action, code, message },
            }
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => Error::Transport {
            action,
            message: error_chain(&err),
        },
        _ => Error::Unexpected {
            action,
            code: "ConstructionFailure".into(),
            message: error_chain(&err),
        },
    }
}

/// How to reach AWS. Every field is optional; unset ones come from the standard chain
/// (environment, `~/.aws/config`, SSO, instance metadata).
#[derive(Clone, Debug, Default)]
pub struct ConnectOptions {
    /// Named profile (`--profile`).
    pub profile: Option<String>,
    /// Region (`--region`); IAM and Organizations are global, `us-east-1` when none is found.
    pub region: Option<String>,
    /// Endpoint override (`--endpoint-url`, or `AWS_ENDPOINT_URL` through the standard chain).
    pub endpoint_url: Option<String>,
    /// Use these static credentials and read no AWS files or instance metadata (the emulator).
    pub isolated_credentials: Option<(String, String)>,
    /// Attempts per call, first included (the SDK's standard retry mode with backoff and jitter).
    pub max_attempts: u32,
}

/// Who is calling. Source: `sts:GetCallerIdentity`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallerIdentity {
    /// The caller's account.
    pub account_id: AccountId,
    /// The caller's ARN (the "operator" in the journal).
    pub arn: String,
    /// `aws`, `aws-cn` or `aws-us-gov`, from the ARN.
    pub partition: String,
}

/// The base configuration and the caller: everything needed to reach any account.
#[derive(Clone, Debug)]
pub struct AwsContext {
    /// The caller's own configuration; never replaced, per-account ones derive from it.
    pub base: SdkConfig,
    /// Who the caller is.
    pub caller: CallerIdentity,
}

/// Loads the base configuration and resolves the caller.
///
/// # Errors
/// [`Error::Transport`] when AWS cannot be reached, [`Error::AccessDenied`] or
/// [`Error::Unexpected`] when the credentials are refused (expired SSO session…).
pub async fn connect(opts: &ConnectOptions) -> Result<AwsContext, Error> {
    let retry = aws_config::retry::RetryConfig::standard()
        .with_max_attempts(opts.max_attempts.max(1))
        .with_initial_backoff(Duration::from_millis(200))
        .with_max_backoff(Duration::from_secs(10));
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(5))
        .operation_attempt_timeout(Duration::from_secs(20))
        // A hung endpoint must not hold an account for attempts × 20 s.
        .operation_timeout(Duration::from_secs(90))
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry)
        .timeout_config(timeouts);
    if let Some(profile) = &opts.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = &opts.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some((id, secret)) = &opts.isolated_credentials {
        use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
        let no_files = EnvConfigFiles::builder()
            .with_contents(EnvConfigFileKind::Config, "")
            .build();
        loader = loader
            .profile_files(no_files)
            .credentials_provider(Credentials::new(id, secret, None, None, "keytriage-isolated"))
            .region(Region::new(opts.region.clone().unwrap_or_else(|| "us-east-1".into())));
    } else if let Some(region) = &opts.region {
        loader = loader.region(Region::new(region.clone()));
    }
    let mut base = loader.load().await;
    if base.region().is_none() {
        base = base.into_builder().region(Region::from_static("us-east-1")).build();
    }
    let caller = caller_identity(&base).await.map_err(|e| match e {
        Error::Transport { message, .. } if message.contains("credentials") => Error::NoCredentials {
            profile: opts.profile.clone(),
            message,
        },
        other => other,
    })?;
    Ok(AwsContext { base, caller })
}

async fn caller_identity(config: &SdkConfig) -> Result<CallerIdentity, Error> {
    let out = aws_sdk_sts::Client::new(config)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| classify("sts:GetCallerIdentity", e))?;
    let arn = out.arn().unwrap_or_default().to_owned();
    let partition = arn
        .split(':')
        .nth(1)
        .filter(|p| !p.is_empty())
        .unwrap_or("aws")
        .to_owned();
    let account_id = AccountId::parse(out.account().unwrap_or_default()).map_err(|e| Error::Unexpected {
        action: "sts:GetCallerIdentity",
        code: "InvalidResponse".into(),
        message: e.to_string(),
    })?;
    Ok(CallerIdentity {
        account_id,
        arn,
        partition,
    })
}

/// Which role to assume in member accounts.
#[derive(Clone, Debug)]
pub struct RoleOptions {
    /// Role name (not ARN), e.g. `OrganizationAccountAccessRole`.
    pub role_name: String,
    /// `sts:ExternalId`, when the role's trust policy requires one.
    pub external_id: Option<String>,
    /// Requested session length; `None` = the SDK's default (one hour).
    pub session_length: Option<Duration>,
}

impl AwsContext {
    /// `arn:<partition>:iam::<account>:role/<role_name>`.
    pub fn role_arn(&self, account: &AccountId, role_name: &str) -> String {
        format!("arn:{}:iam::{}:role/{}", self.caller.partition, account, role_name)
    }

    /// The STS session name the target account's CloudTrail shows: `keytriage-<caller name>`.
    pub fn session_name(&self) -> String {
        let who = self.caller.arn.rsplit(['/', ':']).next().unwrap_or("operator");
        let clean: String = who
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || "+=,.@-_".contains(*c))
            .collect();
        let mut name = format!("keytriage-{clean}");
        name.truncate(64);
        name
    }

    /// The configuration for reads inside `account` with the audit `role`: the caller's own
    /// in the caller's account (the audit role is a member-account role), else
    /// [`AwsContext::assumed_config`]. Writes with a named remediation role use
    /// [`AwsContext::assumed_config`] in every account, the caller's own included.
    ///
    /// # Errors
    /// [`Error::AssumeRole`] with AWS's code, or [`Error::Transport`].
    pub async fn account_config(&self, account: &Account, role: &RoleOptions) -> Result<SdkConfig, Error> {
        if account.id == self.caller.account_id {
            return Ok(self.base.clone());
        }
        self.assumed_config(account, role).await
    }

    /// The configuration acting as `role` in `account` (any account, the caller's own
    /// included): a refreshing `AssumeRole` provider derived from the base. The role is
    /// assumed once here (one `sts:AssumeRole`), so that a refusal is reported as
    /// [`Error::AssumeRole`] before any other call.
    ///
    /// # Errors
    /// [`Error::AssumeRole`] with AWS's code, or [`Error::Transport`].
    pub async fn assumed_config(&self, account: &Account, role: &RoleOptions) -> Result<SdkConfig, Error> {
        let role_arn = self.role_arn(&account.id, &role.role_name);
        let mut builder = aws_config::sts::AssumeRoleProvider::builder(role_arn.clone())
            .configure(&self.base)
            .session_name(self.session_name());
        if let Some(id) = &role.external_id {
            builder = builder.external_id(id);
        }
        if let Some(len) = role.session_length {
            builder = builder.session_length(len);
        }
        let provider = builder.build().await;
        let first = provider
            .provide_credentials()
            .await
            .map_err(|e| assume_role_error(role_arn, &e))?;
        let provider = Prefetched {
            first: std::sync::Mutex::new(Some(first)),
            inner: provider,
        };
        Ok(self
            .base
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(provider))
            .build())
    }
}

/// A provider that hands out the credentials already fetched (to check the role) once, then
/// asks the refreshing provider: the role is assumed once per account, not twice.
#[derive(Debug)]
struct Prefetched<P> {
    first: std::sync::Mutex<Option<Credentials>>,
    inner: P,
}

impl<P: ProvideCredentials> ProvideCredentials for Prefetched<P> {
    fn provide_credentials<'a>(&'a self) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        let first = self.first.lock().ok().and_then(|mut f| f.take());
        match first {
            Some(creds) => aws_credential_types::provider::future::ProvideCredentials::ready(Ok(creds)),
            None => self.inner.provide_credentials(),
        }
    }
}

fn assume_role_error(role_arn: String, err: &aws_credential_types::provider::error::CredentialsError) -> Error {
    use std::error::Error as _;
    let sdk = err.source().and_then(|s| {
        s.downcast_ref::<aws_sdk_sts::error::SdkError<aws_sdk_sts::operation::assume_role::AssumeRoleError>>()
    });
    match sdk {
        Some(e @ SdkError::ServiceError(_)) => Error::AssumeRole {
            role_arn,
            code: e.code().unwrap_or("Unknown").to_owned(),
            message: e.message().unwrap_or_default().to_owned(),
        },
        Some(e) => Error::Transport {
            action: "sts:AssumeRole",
            message: error_chain(e),
        },
        None => Error::AssumeRole {
            role_arn,
            code: "Unknown".into(),
            message: error_chain(err),
        },
    }
}

/// Converts an SDK timestamp to a UTC [`crate::model::Timestamp`] (whole seconds).
pub(crate) fn to_utc(t: &aws_smithy_types::DateTime) -> crate::model::Timestamp {
    chrono::DateTime::from_timestamp(t.secs(), 0).unwrap_or_default()
}
