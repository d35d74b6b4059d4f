//! AWS Security Hub: import keytriage's findings (`securityhub:BatchImportFindings`) into
//! the caller's account and read back the ones it imported before
//! (`securityhub:GetFindings`), so that findings gone since the last import are archived.
//!
//! The findings come in as [`AsffFinding`] (the pure mapping in `report::asff`) and are
//! converted to SDK types here. Retries (throttling, 5xx, broken connections) are the SDK's
//! standard retry mode configured in [`super::connect`].

use super::{AwsContext, Error, classify};
use crate::report::asff::{AsffFinding, ID_PREFIX};
use aws_config::Region;
use aws_sdk_securityhub::Client;
use aws_sdk_securityhub::types::{
    AwsIamAccessKeyDetails, AwsIamAccessKeyStatus, AwsIamUserDetails, AwsSecurityFinding, AwsSecurityFindingFilters,
    Compliance, ComplianceStatus, RecordState, Resource, ResourceDetails, Severity, SeverityLabel, StringFilter,
    StringFilterComparison,
};
use std::collections::{BTreeSet, HashMap};

/// Security Hub takes at most this many findings per `BatchImportFindings` call.
pub const BATCH_LIMIT: usize = 100;

/// The product field that names the account a finding is about (the imported finding's
/// `AwsAccountId` is the caller's).
pub const ACCOUNT_FIELD: &str = "keytriage/account_id";

/// A finding Security Hub refused, as `BatchImportFindings` reported it in `FailedFindings`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailedFinding {
    /// The finding's `Id`.
    pub id: String,
    /// Security Hub's error code, e.g. `InvalidInput`.
    pub code: String,
    /// Security Hub's message.
    pub message: String,
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Findings sent as `ACTIVE` and accepted.
    pub active: usize,
    /// Findings sent as `ARCHIVED` (gone since the last import) and accepted.
    pub archived: usize,
    /// Findings refused, by id.
    pub failed: Vec<FailedFinding>,
    /// `BatchImportFindings` calls made (retries not counted).
    pub calls: usize,
}

/// A keytriage finding as Security Hub holds it (read back with `GetFindings`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredFinding {
    /// Its `Id`.
    pub id: String,
    /// `Severity.Label`: CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL.
    pub severity_label: String,
    /// The account it is about (product field [`ACCOUNT_FIELD`]); empty if absent.
    pub account_id: String,
    /// `CreatedAt`.
    pub created_at: String,
}

/// Stack of the thread [`on_large_stack`] runs Security Hub calls on.
pub const STACK_BYTES: usize = 64 << 20;

/// Runs `work` to completion on a thread of its own with a [`STACK_BYTES`] stack and a
/// current-thread runtime, and awaits its output. Security Hub's response deserializers
/// (`ResourceDetails` alone has hundreds of fields) take more than 8 MiB of stack in an
/// unoptimised build: more than a main thread or a runtime worker has. Build the client
/// inside `work`.
///
/// # Errors
/// The thread or its runtime could not be started, or `work` panicked.
pub async fn on_large_stack<T, F>(work: F) -> std::io::Result<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("keytriage-securityhub".into())
        .stack_size(STACK_BYTES)
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
            let _ = tx.send(runtime.map(|r| r.block_on(work)));
        })?;
    rx.await
        .map_err(|_| std::io::Error::other("the Security Hub thread panicked"))?
}

/// A Security Hub client in `region` (the caller's credentials and endpoint).
pub fn client(ctx: &AwsContext, region: &str) -> Client {
    let conf = aws_sdk_securityhub::config::Builder::from(&ctx.base)
        .region(Region::new(region.to_owned()))
        .build();
    Client::from_conf(conf)
}

/// The ACTIVE findings of `product_arn` whose id starts with `keytriage/`, in Security Hub's
/// order. Asks Security Hub to filter (product ARN, record state, generator prefix) and
/// filters again here, as emulators may ignore filters. Pages through `GetFindings` (100 per
/// page).
///
/// # Errors
/// [`Error`] classified from `securityhub:GetFindings` (access denied, Security Hub not
/// enabled in the region: `InvalidAccessException`).
pub async fn active_findings(client: &Client, product_arn: &str) -> Result<Vec<AwsSecurityFinding>, Error> {
    let eq = |v: &str| {
        StringFilter::builder()
            .value(v)
            .comparison(StringFilterComparison::Equals)
            .build()
    };
    let filters = AwsSecurityFindingFilters::builder()
        .product_arn(eq(product_arn))
        .record_state(eq(RecordState::Active.as_str()))
        .generator_id(
            StringFilter::builder()
                .value(ID_PREFIX)
                .comparison(StringFilterComparison::Prefix)
                .build(),
        )
        .build();
    let mut pages = client
        .get_findings()
        .filters(filters)
        .max_results(100)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| classify("securityhub:GetFindings", e))?;
        out.extend(page.findings.unwrap_or_default().into_iter().filter(|f| {
            f.product_arn.as_deref() == Some(product_arn)
                && f.id.as_deref().is_some_and(|id| id.starts_with(ID_PREFIX))
                && f.record_state.as_ref().is_none_or(|s| *s == RecordState::Active)
        }));
    }
    Ok(out)
}

/// [`active_findings`] reduced to what a reader checks: id, severity, account, creation.
///
/// # Errors
/// As [`active_findings`].
pub async fn stored_findings(client: &Client, product_arn: &str) -> Result<Vec<StoredFinding>, Error> {
    Ok(active_findings(client, product_arn)
        .await?
        .into_iter()
        .map(|f| StoredFinding {
            id: f.id.unwrap_or_default(),
            severity_label: f
                .severity
                .and_then(|s| s.label)
                .map(|l| l.as_str().to_owned())
                .unwrap_or_default(),
            account_id: f
                .product_fields
                .and_then(|p| p.get(ACCOUNT_FIELD).cloned())
                .unwrap_or_default(),
            created_at: f.created_at.unwrap_or_default(),
        })
        .collect())
}

/// Brings Security Hub in line with this scan: reads keytriage's active findings, sends
/// `current` as ACTIVE (keeping Security Hub's `CreatedAt` for a finding it already has),
/// and sends as ARCHIVED every active finding of an account in `audited` that is not in
/// `current` (it was fixed). Findings of accounts not in `audited` (failed, partial, not
/// selected) are left as they are. `now` is the archive's `UpdatedAt` (RFC 3339).
///
/// Sends in calls of at most [`BATCH_LIMIT`]; a refused finding is reported by id in
/// [`ImportReport::failed`] and the others still go.
///
/// # Errors
/// [`Error`] of `GetFindings` or of a whole `BatchImportFindings` call (after the SDK's
/// retries); findings already sent stay sent.
pub async fn sync(
    client: &Client,
    product_arn: &str,
    mut current: Vec<AsffFinding>,
    audited: &BTreeSet<String>,
    now: &str,
) -> Result<ImportReport, Error> {
    let existing = active_findings(client, product_arn).await?;
    let by_id: HashMap<&str, &AwsSecurityFinding> = existing
        .iter()
        .filter_map(|f| f.id.as_deref().map(|id| (id, f)))
        .collect();
    for f in &mut current {
        if let Some(created) = by_id.get(f.id.as_str()).and_then(|e| e.created_at.as_deref()) {
            f.created_at = created.to_owned();
        }
    }
    let current_ids: BTreeSet<&str> = current.iter().map(|f| f.id.as_str()).collect();
    let gone: Vec<AwsSecurityFinding> = existing
        .iter()
        .filter(|f| f.id.as_deref().is_some_and(|id| !current_ids.contains(id)))
        .filter(|f| {
            f.product_fields
                .as_ref()
                .and_then(|p| p.get(ACCOUNT_FIELD))
                .is_some_and(|a| audited.contains(a))
        })
        .map(|f| archived(f, now))
        .collect();
    let active: Vec<AwsSecurityFinding> = current.iter().map(to_sdk).collect();
    let mut report = import(client, active).await?;
    let arch = import(client, gone).await?;
    report.archived = arch.active;
    report.failed.extend(arch.failed);
    report.calls += arch.calls;
    Ok(report)
}

/// Sends `findings` in calls of at most [`BATCH_LIMIT`]. [`ImportReport::active`] counts the
/// accepted ones.
///
/// # Errors
/// [`Error`] of a whole call (after the SDK's retries).
pub async fn import(client: &Client, findings: Vec<AwsSecurityFinding>) -> Result<ImportReport, Error> {
    let mut report = ImportReport::default();
    for chunk in findings.chunks(BATCH_LIMIT) {
        let out = client
            .batch_import_findings()
            .set_findings(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| classify("securityhub:BatchImportFindings", e))?;
        report.calls += 1;
        report.active += usize::try_from(out.success_count.unwrap_or_default()).unwrap_or_default();
        report.failed.extend(
            out.failed_findings
                .unwrap_or_default()
                .into_iter()
                .map(|f| FailedFinding {
                    id: f.id.unwrap_or_default(),
                    code: f.error_code.unwrap_or_default(),
                    message: f.error_message.unwrap_or_default(),
                }),
        );
    }
    Ok(report)
}

/// The archive of a stored finding: its required fields and resources, `RecordState`
/// ARCHIVED, `UpdatedAt` = `now`.
fn archived(f: &AwsSecurityFinding, now: &str) -> AwsSecurityFinding {
    AwsSecurityFinding::builder()
        .set_schema_version(f.schema_version.clone())
        .set_id(f.id.clone())
        .set_product_arn(f.product_arn.clone())
        .set_generator_id(f.generator_id.clone())
        .set_aws_account_id(f.aws_account_id.clone())
        .set_types(f.types.clone())
        .set_created_at(f.created_at.clone())
        .updated_at(now)
        .set_severity(f.severity.clone())
        .set_title(f.title.clone())
        .set_description(f.description.clone())
        .set_resources(f.resources.clone())
        .set_compliance(f.compliance.clone())
        .set_product_fields(f.product_fields.clone())
        .record_state(RecordState::Archived)
        .build()
}

/// Converts the pure mapping's finding to the SDK's.
pub fn to_sdk(f: &AsffFinding) -> AwsSecurityFinding {
    let resources = f
        .resources
        .iter()
        .map(|r| {
            let details = r.details.as_ref().map(|d| {
                ResourceDetails::builder()
                    .set_aws_iam_access_key(d.aws_iam_access_key.as_ref().map(|k| {
                        AwsIamAccessKeyDetails::builder()
                            .access_key_id(&k.access_key_id)
                            .account_id(&k.account_id)
                            .set_status(k.status.as_deref().map(AwsIamAccessKeyStatus::from))
                            .set_created_at(k.created_at.clone())
                            .principal_name(&k.principal_name)
                            .principal_type(&k.principal_type)
                            .build()
                    }))
                    .set_aws_iam_user(d.aws_iam_user.as_ref().map(|u| {
                        AwsIamUserDetails::builder()
                            .user_name(&u.user_name)
                            .path(&u.path)
                            .create_date(&u.create_date)
                            .build()
                    }))
                    .build()
            });
            Resource::builder()
                .r#type(&r.kind)
                .id(&r.id)
                .partition(aws_sdk_securityhub::types::Partition::from(r.partition.as_str()))
                .region(&r.region)
                .set_details(details)
                .build()
        })
        .collect();
    AwsSecurityFinding::builder()
        .schema_version(&f.schema_version)
        .id(&f.id)
        .product_arn(&f.product_arn)
        .product_name(&f.product_name)
        .company_name(&f.company_name)
        .generator_id(&f.generator_id)
        .aws_account_id(&f.aws_account_id)
        .set_types(Some(f.types.clone()))
        .created_at(&f.created_at)
        .updated_at(&f.updated_at)
        .severity(
            Severity::builder()
                .label(SeverityLabel::from(f.severity.label.as_str()))
                .original(&f.severity.original)
                .build(),
        )
        .title(&f.title)
        .description(&f.description)
        .compliance(
            Compliance::builder()
                .status(ComplianceStatus::from(f.compliance.status.as_str()))
                .set_related_requirements(Some(f.compliance.related_requirements.clone()))
                .set_security_control_id(f.compliance.security_control_id.clone())
                .build(),
        )
        .set_resources(Some(resources))
        .record_state(RecordState::from(f.record_state.as_str()))
        .set_product_fields(Some(f.product_fields.clone().into_iter().collect()))
        .build()
}
