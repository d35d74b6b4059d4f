//! The long-lived credentials of IAM users besides access keys and passwords: SSH public keys
//! (`iam:ListSSHPublicKeys`, per user), X.509 signing certificates
//! (`iam:ListSigningCertificates`, per user whose credential report row shows a certificate)
//! and service-specific credentials (`iam:ListServiceSpecificCredentials` with
//! `AllUsers=true`: one paged call per account for every user).
//!
//! Converts SDK output into [`Credential`]; never keeps a certificate body or a secret.

use super::{Error, classify, to_utc};
use crate::model::{Credential, CredentialKind, CredentialStatus, Timestamp};
use aws_sdk_iam::Client;
use aws_sdk_iam::types::StatusType;
use chrono::{TimeZone, Utc};
use std::collections::{BTreeSet, HashMap};

/// Which kinds of credential a scan reads (`--credentials`, config `credentials`).
/// `access_key` is one of them: without it, `ListAccessKeys` is not called and users have no
/// access keys in the result. `role` ([`CredentialKind::Role`], in `others`) reads each
/// account's roles (`GetAccountAuthorizationDetails`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialKinds {
    /// Access keys (`iam:ListAccessKeys`).
    pub access_keys: bool,
    /// The other kinds.
    pub others: BTreeSet<CredentialKind>,
}

impl Default for CredentialKinds {
    /// Every kind.
    fn default() -> Self {
        Self {
            access_keys: true,
            others: CredentialKind::ALL.into_iter().chain([CredentialKind::Role]).collect(),
        }
    }
}

impl CredentialKinds {
    /// The names `--credentials` accepts, in order.
    pub const NAMES: [&'static str; 6] = [
        "all",
        "access_key",
        "ssh_public_key",
        "signing_certificate",
        "service_specific",
        "role",
    ];

    /// True when `kind` is read.
    pub fn reads(&self, kind: CredentialKind) -> bool {
        self.others.contains(&kind)
    }

    /// Parses a comma-separated list of kinds (`access_key,ssh_public_key`; `all` for every
    /// kind; `-` and `_` alike, case-insensitive).
    ///
    /// # Errors
    /// A message naming the unknown kind and listing the known ones; an empty list.
    pub fn parse_list<S: AsRef<str>>(items: &[S]) -> Result<Self, String> {
        let mut out = Self {
            access_keys: false,
            others: BTreeSet::new(),
        };
        for item in items.iter().flat_map(|s| s.as_ref().split(',')) {
            let name = item.trim().to_ascii_lowercase().replace('-', "_");
            match name.as_str() {
                "" => continue,
                "all" => return Ok(Self::default()),
                "access_key" | "access_keys" => out.access_keys = true,
                other => {
                    let kind = CredentialKind::ALL
                        .into_iter()
                        .chain([CredentialKind::Role])
                        .find(|k| k.as_str() == other || format!("{}s", k.as_str()) == other)
                        .ok_or_else(|| {
                            format!(
                                "credential kind '{}' is unknown (use {})",
                                item.trim(),
                                Self::NAMES.join(", ")
                            )
                        })?;
                    out.others.insert(kind);
                }
            }
        }
        if !out.access_keys && out.others.is_empty() {
            return Err(format!("no credential kind given (use {})", Self::NAMES.join(", ")));
        }
        Ok(out)
    }
}

fn status(s: &StatusType) -> CredentialStatus {
    match s {
        StatusType::Active => CredentialStatus::Active,
        StatusType::Expired => CredentialStatus::Expired,
        // Inactive, and a status this SDK does not know: not counted as usable.
        _ => CredentialStatus::Inactive,
    }
}

/// `iam:ListSSHPublicKeys` for `user`, every page, in AWS's order.
///
/// # Errors
/// The call's failure, classified ([`Error::AccessDenied`], [`Error::NoSuchEntity`] when the
/// user is gone, …).
pub async fn ssh_public_keys(client: &Client, user: &str) -> Result<Vec<Credential>, Error> {
    let keys: Vec<aws_sdk_iam::types::SshPublicKeyMetadata> = client
        .list_ssh_public_keys()
        .user_name(user)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify("iam:ListSSHPublicKeys", e))?;
    Ok(keys
        .iter()
        .map(|k| Credential {
            kind: CredentialKind::SshPublicKey,
            id: k.ssh_public_key_id().to_owned(),
            status: status(k.status()),
            created: to_utc(k.upload_date()),
            expires: None,
            service: None,
        })
        .collect())
}

/// `iam:ListSigningCertificates` for `user`, every page. Each certificate's expiry is its
/// NotAfter ([`not_after`]); a body that cannot be parsed leaves `expires` `None` and adds a
/// warning naming the user and certificate. A certificate without `UploadDate` counts from
/// its NotBefore (else the Unix epoch, with a warning).
///
/// # Errors
/// The call's failure, classified.
pub async fn signing_certificates(client: &Client, user: &str) -> Result<(Vec<Credential>, Vec<String>), Error> {
    let certs: Vec<aws_sdk_iam::types::SigningCertificate> = client
        .list_signing_certificates()
        .user_name(user)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| classify("iam:ListSigningCertificates", e))?;
    let mut warnings = Vec::new();
    let out = certs
        .iter()
        .map(|c| {
            let validity = validity(c.certificate_body());
            if validity.is_none() {
                warnings.push(format!(
                    "user '{user}' signing certificate {} could not be parsed as X.509 PEM; its expiry is unknown",
                    c.certificate_id()
                ));
            }
            let created = c
                .upload_date()
                .map(to_utc)
                .or(validity.map(|v| v.0))
                .unwrap_or_else(|| {
                    warnings.push(format!(
                        "user '{user}' signing certificate {} has no upload date; its age is unknown",
                        c.certificate_id()
                    ));
                    Timestamp::UNIX_EPOCH
                });
            Credential {
                kind: CredentialKind::SigningCertificate,
                id: c.certificate_id().to_owned(),
                status: status(c.status()),
                created,
                expires: validity.map(|v| v.1),
                service: None,
            }
        })
        .collect();
    Ok((out, warnings))
}

/// `iam:ListServiceSpecificCredentials` with `AllUsers=true`, every page (`Marker`): every
/// service-specific credential of the account, by user name, in AWS's order.
///
/// # Errors
/// The call's failure, classified.
pub async fn service_specific_all_users(client: &Client) -> Result<HashMap<String, Vec<Credential>>, Error> {
    let mut out: HashMap<String, Vec<Credential>> = HashMap::new();
    let mut marker: Option<String> = None;
    loop {
        let page = client
            .list_service_specific_credentials()
            .all_users(true)
            .set_marker(marker.take())
            .send()
            .await
            .map_err(|e| classify("iam:ListServiceSpecificCredentials", e))?;
        for c in page.service_specific_credentials() {
            out.entry(c.user_name().to_owned())
                .or_default()
                .push(service_specific(c));
        }
        match page.marker() {
            Some(m) if page.is_truncated() && !m.is_empty() => marker = Some(m.to_owned()),
            _ => break,
        }
    }
    Ok(out)
}

/// One entry of `iam:ListServiceSpecificCredentials` as a [`Credential`].
fn service_specific(c: &aws_sdk_iam::types::ServiceSpecificCredentialMetadata) -> Credential {
    Credential {
        kind: CredentialKind::ServiceSpecific,
        id: c.service_specific_credential_id().to_owned(),
        status: status(c.status()),
        created: to_utc(c.create_date()),
        expires: c.expiration_date().map(to_utc),
        service: Some(c.service_name().to_owned()),
    }
}

/// `iam:ListServiceSpecificCredentials` for one `user` (every page): the live read before and
/// after a write on one of them.
///
/// # Errors
/// The call's failure, classified ([`Error::NoSuchEntity`] when the user is gone).
pub async fn service_specific_of_user(client: &Client, user: &str) -> Result<Vec<Credential>, Error> {
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = client
            .list_service_specific_credentials()
            .user_name(user)
            .set_marker(marker.take())
            .send()
            .await
            .map_err(|e| classify("iam:ListServiceSpecificCredentials", e))?;
        out.extend(page.service_specific_credentials().iter().map(service_specific));
        match page.marker() {
            Some(m) if page.is_truncated() && !m.is_empty() => marker = Some(m.to_owned()),
            _ => break,
        }
    }
    Ok(out)
}

/// Re-reads `user`'s credentials of one `kind` live (the list call of that kind, for that
/// user only): the truth before and after a write on one of them.
///
/// # Errors
/// [`Error::NoSuchEntity`] when the user is gone; any other classified failure.
pub async fn read_user_credentials(
    config: &aws_config::SdkConfig,
    user: &str,
    kind: CredentialKind,
) -> Result<Vec<Credential>, Error> {
    let client = Client::new(config);
    match kind {
        CredentialKind::SshPublicKey => ssh_public_keys(&client, user).await,
        CredentialKind::SigningCertificate => Ok(signing_certificates(&client, user).await?.0),
        CredentialKind::ServiceSpecific => service_specific_of_user(&client, user).await,
        // A user holds no roles.
        CredentialKind::Role => Ok(Vec::new()),
    }
}

/// `user`'s console password read live: `None` when the user has none
/// (`iam:GetLoginProfile` answers `NoSuchEntity` about the login profile), else its last use
/// (`iam:GetUser` `PasswordLastUsed`, UTC; `None` inside when never used).
///
/// # Errors
/// [`Error::NoSuchEntity`] when the user itself is gone; any other classified failure.
pub async fn read_console_password(
    config: &aws_config::SdkConfig,
    user: &str,
) -> Result<Option<Option<Timestamp>>, Error> {
    if !console_password_exists(config, user).await? {
        return Ok(None);
    }
    let client = Client::new(config);
    let out = client
        .get_user()
        .user_name(user)
        .send()
        .await
        .map_err(|e| classify("iam:GetUser", e))?;
    Ok(Some(out.user().and_then(|u| u.password_last_used()).map(to_utc)))
}

/// True when `user` has a console password (`iam:GetLoginProfile`; `NoSuchEntity` about the
/// login profile: false). Needs only the audit role's `iam:GetLoginProfile`.
///
/// # Errors
/// [`Error::NoSuchEntity`] when the user itself is gone; any other classified failure.
pub async fn console_password_exists(config: &aws_config::SdkConfig, user: &str) -> Result<bool, Error> {
    match Client::new(config).get_login_profile().user_name(user).send().await {
        Ok(_) => Ok(true),
        Err(e) => match classify("iam:GetLoginProfile", e) {
            // "Login Profile for User X cannot be found" = no password; "The user with name X
            // cannot be found" = the user itself is gone.
            Error::NoSuchEntity { message, .. } if message.to_ascii_lowercase().contains("login profile") => Ok(false),
            other => Err(other),
        },
    }
}

/// NotBefore and NotAfter (UTC) of a PEM-encoded X.509 certificate (the `CertificateBody`
/// of `iam:ListSigningCertificates`); `None` when it is not one.
pub fn validity(pem: &str) -> Option<(Timestamp, Timestamp)> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).ok()?;
    let cert = pem.parse_x509().ok()?;
    let v = cert.validity();
    let ts = |t: &x509_parser::time::ASN1Time| Utc.timestamp_opt(t.timestamp(), 0).single();
    Some((ts(&v.not_before)?, ts(&v.not_after)?))
}

/// The NotAfter (UTC) of a PEM-encoded X.509 certificate; `None` when it is not one.
pub fn not_after(pem: &str) -> Option<Timestamp> {
    validity(pem).map(|v| v.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    // A self-signed EC P-256 certificate, CN=alice, valid 2026-01-01T00:00:00Z to
    // 2026-12-31T23:59:59Z (made with Python's `cryptography`, as the emulator does).
    const PEM: &str = include_str!("../../tests/fixture/alice-cert.pem");

    #[test]
    fn validity_reads_not_before_and_not_after() {
        let (nb, na) = validity(PEM).expect("parses");
        assert_eq!(nb, Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
        assert_eq!(na, Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 59).unwrap());
        assert_eq!(not_after(PEM), Some(na));
    }

    #[test]
    fn validity_of_something_else_is_none() {
        assert_eq!(validity("not a certificate"), None);
        assert_eq!(
            validity("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
            None
        );
    }

    #[test]
    fn kinds_parse_names_all_and_reject_unknown() {
        assert_eq!(CredentialKinds::parse_list(&["all"]), Ok(CredentialKinds::default()));
        let k = CredentialKinds::parse_list(&["access-key, ssh_public_key"]).unwrap();
        assert!(k.access_keys);
        assert_eq!(
            k.others.iter().copied().collect::<Vec<_>>(),
            [CredentialKind::SshPublicKey]
        );
        let k = CredentialKinds::parse_list(&["service_specific", "Signing_Certificates"]).unwrap();
        assert!(!k.access_keys);
        assert_eq!(
            k.others.iter().copied().collect::<Vec<_>>(),
            [CredentialKind::SigningCertificate, CredentialKind::ServiceSpecific]
        );
        assert_eq!(
            CredentialKinds::parse_list(&["ssh"]),
            Err("credential kind 'ssh' is unknown (use all, access_key, ssh_public_key, signing_certificate, service_specific, role)".into())
        );
        let k = CredentialKinds::parse_list(&["roles"]).unwrap();
        assert_eq!(k.others.iter().copied().collect::<Vec<_>>(), [CredentialKind::Role]);
        assert!(
            CredentialKinds::default().reads(CredentialKind::Role),
            "roles are read by default"
        );
        assert!(
            CredentialKinds::parse_list(&[" , "])
                .unwrap_err()
                .starts_with("no credential kind given")
        );
    }
}
