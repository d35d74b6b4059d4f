//! The AWS side: the only module that imports `aws_sdk_*`.
//!
//! It builds the base SDK configuration, resolves the caller's identity and partition,
//! derives per-account configurations (the caller's own credentials in its own account, an
//! `AssumeRole` into the audit role elsewhere), lists the organization's accounts and reads
//! each account's inventory. SDK output is converted into `model` types here; errors are
//! classified into [`Error`] at this boundary.

pub mod credential_report;
pub mod credentials;
pub mod inventory;
pub mod org;
pub mod remediate;
pub mod roles;
pub mod secretsmanager;
pub mod securityhub;

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
    /// `--profile` names a profile the AWS config files do not define, or they cannot be read.
    #[error("profile '{profile}' {problem} (looked in {files}); check the name with `aws configure list-profiles`")]
    Profile {
        /// The profile asked for.
        profile: String,
        /// `is not defined`, or why the files could not be read.
        problem: String,
        /// The files looked in: `AWS_CONFIG_FILE` (else `~/.aws/config`) and
        /// `AWS_SHARED_CREDENTIALS_FILE` (else `~/.aws/credentials`), joined with " and ".
        files: String,
    },
    /// The endpoint could not be connected to (refused, timed out, unknown host).
    #[error("cannot connect to {url}: {message}; check the URL (--endpoint-url), the network and any proxy")]
    Unreachable {
        /// The STS endpoint tried, e.g. `https://sts.us-east-1.amazonaws.com`.
        url: String,
        /// What the HTTP stack said.
        message: String,
    },
    /// `--endpoint-url` (or `AWS_ENDPOINT_URL`) is not an `http(s)://host[:port][/path]` URL.
    #[error("endpoint URL '{0}' is not valid: expected http://host[:port] or https://host[:port]")]
    InvalidEndpoint(String),
    /// The region (`--region`, `AWS_REGION` or the profile's) is not a region name.
    #[error(
        "region '{0}' is not valid: expected a name like us-east-1 (check --region, AWS_REGION and the profile's region)"
    )]
    InvalidRegion(String),
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
            Self::Profile { .. } => "ProfileNotFound",
            Self::Unreachable { .. } => "Transport",
            Self::InvalidEndpoint(_) | Self::InvalidRegion(_) => "InvalidConfiguration",
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
/// the Debug dumps `DisplayErrorContext` appends, nor those some SDK messages embed.
pub(crate) fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = next {
        let text = without_debug_dumps(&e.to_string());
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// Replaces every backquoted Debug dump of a struct (`` `Request { body: SdkBody … }` ``,
/// which the SDK puts in "failed to apply endpoint … to request" errors) with "the request".
fn without_debug_dumps(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('`') {
        let Some(len) = rest[start + 1..].find('`') else {
            break;
        };
        let quoted = &rest[start + 1..start + 1 + len];
        out.push_str(&rest[..start]);
        if quoted.contains(" { ") || quoted.contains("SdkBody") {
            out.push_str("the request");
        } else {
            out.push_str(&rest[start..start + len + 2]);
        }
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    out
}

/// Classifies an SDK error for `action` (e.g. `iam:ListUsers`). An answer without an AWS
/// error code (a proxy's or a web server's page) is [`Error::Unexpected`] with code `Unknown`
/// and its HTTP status as the message.
pub(crate) fn classify<E, R>(action: &'static str, err: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match &err {
        SdkError::ServiceError(service) => {
            let code = err.code().unwrap_or("Unknown").to_owned();
            let mut message = err.message().unwrap_or_default().to_owned();
            if err.code().is_none() && message.is_empty() {
                let raw: &dyn std::any::Any = service.raw();
                message = match raw.downcast_ref::<aws_smithy_runtime_api::client::orchestrator::HttpResponse>() {
                    Some(r) => format!("HTTP {} without an AWS error code", r.status().as_u16()),
                    None => "an answer without an AWS error code".into(),
                };
            }
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
/// A named profile (`--profile`) is used alone, as the AWS CLI does: its credentials (static
/// keys, SSO, `role_arn`, `credential_process`) win over `AWS_*` variables in the environment,
/// and its region over `AWS_REGION` (`--region` still wins over both).
///
/// # Errors
/// [`Error::Profile`] when the named profile is not in the AWS files,
/// [`Error::InvalidEndpoint`] / [`Error::InvalidRegion`] for malformed settings,
/// [`Error::Unreachable`] when the STS endpoint cannot be connected to (never retried: a
/// refused connection fails at once, an unanswered one after 3 s),
/// [`Error::NoCredentials`] when no credentials are found, [`Error::AccessDenied`] or
/// [`Error::Unexpected`] when they are refused (expired SSO session…).
pub async fn connect(opts: &ConnectOptions) -> Result<AwsContext, Error> {
    connect_reporting(opts, |_| {}).await
}

/// [`connect`], calling `on_status` once, before the first call to AWS, with a line that says
/// what it waits for: `connecting to https://sts.us-east-1.amazonaws.com as profile 'audit'…`.
///
/// # Errors
/// As [`connect`].
pub async fn connect_reporting(opts: &ConnectOptions, on_status: impl FnOnce(&str)) -> Result<AwsContext, Error> {
    if let Some(url) = &opts.endpoint_url {
        check_endpoint(url)?;
    }
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
    } else if let Some(profile) = &opts.profile {
        check_profile(profile).await?;
        use aws_config::meta::region::RegionProviderChain;
        let region = RegionProviderChain::first_try(opts.region.clone().map(Region::new))
            .or_else(
                aws_config::profile::ProfileFileRegionProvider::builder()
                    .profile_name(profile)
                    .build(),
            )
            .or_else(aws_config::environment::EnvironmentVariableRegionProvider::new())
            .or_else(Region::from_static("us-east-1"))
            .region()
            .await;
        // The profile's provider alone, not the default chain: the chain would try the
        // environment's AWS_ACCESS_KEY_ID first.
        let provider = aws_config::profile::ProfileFileCredentialsProvider::builder()
            .profile_name(profile)
            .configure(&aws_config::provider_config::ProviderConfig::default().with_region(region.clone()))
            .build();
        loader = loader.profile_name(profile).credentials_provider(provider);
        if let Some(region) = region {
            loader = loader.region(region);
        }
    } else if let Some(region) = &opts.region {
        loader = loader.region(Region::new(region.clone()));
    }
    let mut base = loader.load().await;
    match base.region() {
        None => base = base.into_builder().region(Region::from_static("us-east-1")).build(),
        Some(r) if !is_host_label(r.as_ref()) => return Err(Error::InvalidRegion(r.to_string())),
        Some(_) => {}
    }
    // `AWS_ENDPOINT_URL` from the environment or the profile lands here too.
    if let Some(url) = base.endpoint_url() {
        check_endpoint(url)?;
    }
    let url = sts_url(&base).await;
    on_status(&format!("connecting to {url} as {}…", credentials_source(opts)));
    let caller = caller_identity(&base).await.map_err(|e| match e {
        Error::Transport { message, .. } if message.contains("credentials") => Error::NoCredentials {
            profile: opts.profile.clone(),
            message,
        },
        Error::Transport { message, .. } => Error::Unreachable { url, message },
        Error::Unexpected { action, code, message } if code == "Unknown" => Error::Unexpected {
            action,
            code,
            message: format!("{url} answered {message}; is it an AWS (or emulator) endpoint?"),
        },
        other => other,
    })?;
    Ok(AwsContext { base, caller })
}

/// Who the credentials will come from, for the "connecting…" line (no secret, no key id).
fn credentials_source(opts: &ConnectOptions) -> String {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if opts.isolated_credentials.is_some() {
        "the emulator's test identity".into()
    } else if let Some(p) = &opts.profile {
        format!("profile '{p}'")
    } else if env("AWS_ACCESS_KEY_ID").is_some() {
        "the credentials in AWS_ACCESS_KEY_ID".into()
    } else if let Some(p) = env("AWS_PROFILE") {
        format!("profile '{p}' (AWS_PROFILE)")
    } else {
        "the default credentials (~/.aws, SSO or instance role)".into()
    }
}

/// The STS endpoint the first call goes to: the configured endpoint, else the one the SDK's
/// resolver gives for the region (`https://sts.us-east-1.amazonaws.com`).
async fn sts_url(base: &SdkConfig) -> String {
    use aws_sdk_sts::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
    if let Some(url) = base.endpoint_url() {
        return url.to_owned();
    }
    let region = base
        .region()
        .map(ToString::to_string)
        .unwrap_or_else(|| "us-east-1".into());
    let resolved = match Params::builder()
        .region(region.clone())
        .use_fips(base.use_fips().unwrap_or(false))
        .use_dual_stack(base.use_dual_stack().unwrap_or(false))
        .build()
    {
        Ok(params) => DefaultResolver::new()
            .resolve_endpoint(&params)
            .await
            .ok()
            .map(|e| e.url().to_owned()),
        Err(_) => None,
    };
    resolved.unwrap_or_else(|| format!("the STS endpoint of {region}"))
}

/// The files the SDK reads profiles from, as it finds them.
fn profile_file_names() -> String {
    let name = |var: &str, default: &str| match std::env::var(var) {
        Ok(v) if !v.is_empty() => format!("{v} ({var})"),
        _ => default.to_owned(),
    };
    format!(
        "{} and {}",
        name("AWS_CONFIG_FILE", "~/.aws/config"),
        name("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")
    )
}

/// [`Error::Profile`] unless the AWS files define `profile` (in either file).
async fn check_profile(profile: &str) -> Result<(), Error> {
    use aws_types::os_shim_internal::{Env, Fs};
    let files = aws_runtime::env_config::file::EnvConfigFiles::default();
    let problem = match aws_config::profile::load(&Fs::real(), &Env::real(), &files, None).await {
        Ok(set) if set.get_profile(profile).is_some() => return Ok(()),
        Ok(_) => "is not defined".to_owned(),
        Err(e) => format!("cannot be read: {}", error_chain(&e)),
    };
    Err(Error::Profile {
        profile: profile.to_owned(),
        problem,
        files: profile_file_names(),
    })
}

/// [`Error::InvalidEndpoint`] unless `url` is `http(s)://host[:port][/path]` with no space.
fn check_endpoint(url: &str) -> Result<(), Error> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    let host = rest.and_then(|r| r.split(['/', '?', '#']).next()).unwrap_or_default();
    let host_ok = !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || "-._:[]%".contains(c));
    if host_ok && !url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Ok(())
    } else {
        Err(Error::InvalidEndpoint(url.to_owned()))
    }
}

/// A DNS label, as region names are: 1 to 63 ASCII letters, digits or `-`, not starting
/// with `-`.
fn is_host_label(s: &str) -> bool {
    !s.is_empty() && s.len() <= 63 && !s.starts_with('-') && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// Forbids retrying a call whose connection could not be made (refused, connect timeout,
/// unknown host): at start these are settings or network problems that retrying with backoff
/// only hides for half a minute. Throttling and 5xx answers are still retried.
#[derive(Debug)]
struct NoRetryWhenUnreachable;

impl aws_smithy_runtime_api::client::retries::classifiers::ClassifyRetry for NoRetryWhenUnreachable {
    fn classify_retry(
        &self,
        ctx: &aws_smithy_runtime_api::client::interceptors::context::InterceptorContext,
    ) -> aws_smithy_runtime_api::client::retries::classifiers::RetryAction {
        use aws_smithy_runtime_api::client::retries::classifiers::RetryAction;
        match ctx.output_or_error() {
            Some(Err(e)) if e.as_connector_error().is_some_and(|c| c.is_io() || c.is_timeout()) => {
                RetryAction::RetryForbidden
            }
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "NoRetryWhenUnreachable"
    }
}

async fn caller_identity(config: &SdkConfig) -> Result<CallerIdentity, Error> {
    let out = aws_sdk_sts::Client::new(config)
        .get_caller_identity()
        .customize()
        .config_override(
            aws_sdk_sts::config::Builder::default()
                .retry_classifier(NoRetryWhenUnreachable)
                .timeout_config(
                    aws_config::timeout::TimeoutConfig::builder()
                        .connect_timeout(Duration::from_secs(3))
                        .operation_attempt_timeout(Duration::from_secs(20))
                        .operation_timeout(Duration::from_secs(90))
                        .build(),
                ),
        )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_dumps_are_cut_from_sdk_messages() {
        let sdk = "failed to apply endpoint `not a url` to request `Request { body: SdkBody { inner: Once(None) }, uri: Uri { as_string: \"/\" } }`: endpoint is not a valid URI";
        assert_eq!(
            without_debug_dumps(sdk),
            "failed to apply endpoint `not a url` to request the request: endpoint is not a valid URI"
        );
        assert_eq!(without_debug_dumps("odd ` quote"), "odd ` quote");
    }

    #[test]
    fn endpoints_and_regions_are_checked() {
        for ok in [
            "http://127.0.0.1:9",
            "https://sts.amazonaws.com",
            "http://[::1]:5000/x",
            "http://localhost",
        ] {
            assert_eq!(check_endpoint(ok), Ok(()), "{ok}");
        }
        for bad in [
            "not a url",
            "http://",
            "ftp://host",
            "http://exa mple.com",
            "127.0.0.1:9",
            "http://a\tb",
        ] {
            assert_eq!(check_endpoint(bad), Err(Error::InvalidEndpoint(bad.into())), "{bad}");
        }
        assert!(is_host_label("us-east-1") && is_host_label("cn-north-1"));
        assert!(!is_host_label("bad region!") && !is_host_label("") && !is_host_label("-x"));
    }
}
