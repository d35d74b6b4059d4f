//! An account's IAM roles: `iam:GetAccountAuthorizationDetails` with `Filter=Role`, every
//! page (`Marker` while `IsTruncated`; up to 100 roles a call, so ⌈r/100⌉ calls for `r`
//! roles), converted into [`Role`]: name, path, ARN, creation, `RoleLastUsed`, and the
//! principals its trust policy (`AssumeRolePolicyDocument`) trusts.
//!
//! Trust policies arrive URL-encoded from IAM's query API (RFC 3986, as AWS documents for
//! every policy document it returns) and as plain JSON from other sources (and from some
//! emulators): [`decode_policy_document`] takes the JSON as it is and percent-decodes only
//! what does not parse. Which principals are inside the organization is judged here, once,
//! against the organization's accounts as the scan discovered them.

use super::{Error, classify, to_utc};
use crate::model::{AccountId, PrincipalKind, Role, RoleLastUsed, TrustedPrincipal};
use aws_config::SdkConfig;
use aws_sdk_iam::Client;
use aws_sdk_iam::config::retry::RetryPartition;
use aws_sdk_iam::types::EntityType;
use serde_json::Value;
use std::collections::BTreeSet;

/// The roles of one account as read, and what could not be read about them (a trust
/// policy that does not parse, a role without a name or date).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RolesRead {
    /// Every role, sorted by name.
    pub roles: Vec<Role>,
    /// Warnings naming the role.
    pub warnings: Vec<String>,
}

/// Reads every role of `account` (its `config` already acts in it). `members` are the
/// organization's account ids: a principal of another account is
/// `in_organization: Some(false)` unless its account is one of them or `account` itself.
///
/// # Errors
/// The call's failure, classified ([`Error::AccessDenied`] when the audit role may not call
/// `iam:GetAccountAuthorizationDetails`).
pub async fn read_roles(
    config: &SdkConfig,
    account: &AccountId,
    members: &BTreeSet<AccountId>,
) -> Result<RolesRead, Error> {
    // The same retry partition as the account's inventory: one throttling budget per account.
    let client = Client::from_conf(
        aws_sdk_iam::config::Builder::from(config)
            .retry_partition(RetryPartition::new(format!("iam-{account}")))
            .build(),
    );
    let mut out = RolesRead {
        roles: Vec::new(),
        warnings: Vec::new(),
    };
    let mut marker: Option<String> = None;
    loop {
        let page = client
            .get_account_authorization_details()
            .filter(EntityType::Role)
            .set_marker(marker.take())
            .send()
            .await
            .map_err(|e| classify("iam:GetAccountAuthorizationDetails", e))?;
        for r in page.role_detail_list() {
            let (Some(name), Some(arn), Some(created)) = (r.role_name(), r.arn(), r.create_date()) else {
                out.warnings.push(format!(
                    "a role without a name, ARN or creation date ({}) in iam:GetAccountAuthorizationDetails; left out",
                    r.arn().or(r.role_name()).unwrap_or("unnamed")
                ));
                continue;
            };
            let trusted = match r.assume_role_policy_document().map(read_trust) {
                Some(Ok(t)) => {
                    if !t.problems.is_empty() {
                        out.warnings.push(format!(
                            "role '{name}' trust policy is partly unreadable ({}); judged on the principals read",
                            t.problems.join("; ")
                        ));
                    }
                    t.principals
                }
                Some(Err(e)) => {
                    out.warnings.push(format!(
                        "role '{name}' trust policy could not be read ({e}); its trusted principals are unknown"
                    ));
                    Vec::new()
                }
                None => Vec::new(),
            };
            let last_used = r.role_last_used().and_then(|u| {
                Some(RoleLastUsed {
                    date: to_utc(u.last_used_date()?),
                    region: u.region().filter(|s| !s.is_empty()).map(str::to_owned),
                })
            });
            out.roles.push(Role {
                name: name.to_owned(),
                path: r.path().unwrap_or("/").to_owned(),
                arn: arn.to_owned(),
                id: r.role_id().unwrap_or_default().to_owned(),
                created: to_utc(created),
                last_used,
                trusted: judge(trusted, account, members),
            });
        }
        match page.marker() {
            Some(m) if page.is_truncated() && !m.is_empty() => marker = Some(m.to_owned()),
            _ => break,
        }
    }
    out.roles.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Sets `in_organization` of every principal naming an account: true for `account` itself
/// and for `members`, false for any other account.
pub fn judge(
    mut trusted: Vec<TrustedPrincipal>,
    account: &AccountId,
    members: &BTreeSet<AccountId>,
) -> Vec<TrustedPrincipal> {
    for p in &mut trusted {
        p.in_organization = p.account.as_ref().map(|a| a == account || members.contains(a));
    }
    trusted
}

/// A policy document as JSON: parsed as it is when it is JSON, else percent-decoded
/// (RFC 3986, UTF-8) and parsed.
///
/// # Errors
/// A message saying what is wrong: not JSON either way, or not UTF-8 once decoded.
pub fn decode_policy_document(raw: &str) -> Result<Value, String> {
    if let Ok(v) = serde_json::from_str::<Value>(raw) {
        return Ok(v);
    }
    let decoded = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map_err(|e| format!("not UTF-8 once URL-decoded: {e}"))?;
    serde_json::from_str(&decoded).map_err(|e| format!("not JSON, plain or URL-encoded: {e}"))
}

/// A trust policy as read by [`read_trust`]: the principals it trusts, and what in it IAM
/// would not store.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trust {
    /// Every principal read, in policy order.
    pub principals: Vec<TrustedPrincipal>,
    /// What could not be read, one message each (`statement 2: Principal AWS holds a value
    /// that is not a string`); empty for a well-formed policy.
    pub problems: Vec<String>,
}

/// The principals a trust policy (plain or URL-encoded JSON) trusts: every principal of
/// every `Allow` statement, in order, with the condition keys of its statement. `Deny`
/// statements trust nobody and are skipped. `"*"` (as the whole `Principal` or as an `AWS`
/// principal), an `AWS` principal with a wildcard (`arn:aws:iam::*:root`) and an `Allow`
/// with `NotPrincipal` are [`PrincipalKind::Anyone`]. `in_organization` is left `None` (see
/// [`judge`]).
///
/// What IAM would not store is a problem, never silently nothing: a statement that is not
/// an object; an `Effect` other than `Allow`/`Deny` (read as `Allow`, so that its principals
/// are still judged); an `Allow` without `Principal` or `NotPrincipal`; a `Principal` that
/// is not `"*"` or an object (or an empty one); a principal value that is not a string (the
/// strings beside it are kept).
///
/// # Errors
/// A message when the document is not JSON ([`decode_policy_document`]) or has no
/// `Statement` object or list.
pub fn read_trust(raw: &str) -> Result<Trust, String> {
    let doc = decode_policy_document(raw)?;
    let statements: Vec<&Value> = match doc.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => return Err("no Statement in the policy".into()),
    };
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (n, st) in statements.into_iter().enumerate() {
        let n = n + 1;
        if !st.is_object() {
            problems.push(format!("statement {n} is not an object"));
            continue;
        }
        match st.get("Effect").and_then(Value::as_str) {
            Some("Deny") => continue,
            Some("Allow") => {}
            _ => problems.push(format!("statement {n} has no Effect of Allow or Deny (read as Allow)")),
        }
        let conditions = condition_keys(st.get("Condition"));
        let anyone = |principal: &str| TrustedPrincipal {
            kind: PrincipalKind::Anyone,
            principal: principal.to_owned(),
            account: None,
            in_organization: None,
            conditions: conditions.clone(),
        };
        if st.get("NotPrincipal").is_some() {
            out.push(anyone("*"));
            continue;
        }
        match st.get("Principal") {
            Some(Value::String(s)) if s == "*" => out.push(anyone("*")),
            Some(Value::String(s)) => out.push(aws_principal(s, &conditions)),
            Some(Value::Object(map)) if map.is_empty() => {
                problems.push(format!("statement {n} has an empty Principal"))
            }
            Some(Value::Object(map)) => {
                for (key, value) in map {
                    let kind = match key.as_str() {
                        "AWS" => PrincipalKind::Aws,
                        "Service" => PrincipalKind::Service,
                        "Federated" => PrincipalKind::Federated,
                        "CanonicalUser" => PrincipalKind::CanonicalUser,
                        // A key IAM does not know cannot be in a stored policy; keep it as
                        // written rather than drop it.
                        _ => PrincipalKind::Aws,
                    };
                    let (values, odd) = strings(value);
                    if odd {
                        problems.push(format!(
                            "statement {n}: Principal {key} holds a value that is not a string"
                        ));
                    }
                    for s in values {
                        out.push(match kind {
                            PrincipalKind::Aws if s == "*" => anyone("*"),
                            PrincipalKind::Aws => aws_principal(s, &conditions),
                            _ => TrustedPrincipal {
                                kind,
                                principal: s.to_owned(),
                                account: None,
                                in_organization: None,
                                conditions: conditions.clone(),
                            },
                        });
                    }
                }
            }
            Some(_) => problems.push(format!("statement {n}: Principal is not \"*\" or an object")),
            None => problems.push(format!("statement {n} allows without a Principal")),
        }
    }
    Ok(Trust {
        principals: out,
        problems,
    })
}

/// [`read_trust`], strict: the principals of a well-formed trust policy.
///
/// # Errors
/// [`read_trust`]'s errors, and its problems joined with `; `.
pub fn trusted_principals(raw: &str) -> Result<Vec<TrustedPrincipal>, String> {
    let trust = read_trust(raw)?;
    if trust.problems.is_empty() {
        Ok(trust.principals)
    } else {
        Err(trust.problems.join("; "))
    }
}

/// The strings of a principal value (a string or a list of strings, as IAM allows), and
/// whether anything else was there (a number, an object, an empty list, a list holding one).
fn strings(v: &Value) -> (Vec<&str>, bool) {
    match v {
        Value::String(s) => (vec![s.as_str()], false),
        Value::Array(list) => {
            let found: Vec<&str> = list.iter().filter_map(Value::as_str).collect();
            let odd = list.is_empty() || found.len() != list.len();
            (found, odd)
        }
        _ => (Vec::new(), true),
    }
}

/// An `AWS` principal: a bare account id, or an ARN whose 5th field is the account
/// (`arn:aws:iam::123456789012:root`, `…:role/x`, `arn:aws:sts::…:assumed-role/…`). A
/// unique id (`AROA…`, left when the trusted entity was deleted) names no account.
fn aws_principal(s: &str, conditions: &[String]) -> TrustedPrincipal {
    if s.contains(['*', '?']) {
        // A wildcard (`arn:aws:iam::*:root`) names no one account: judged as anyone.
        return TrustedPrincipal {
            kind: PrincipalKind::Anyone,
            principal: s.to_owned(),
            account: None,
            in_organization: None,
            conditions: conditions.to_vec(),
        };
    }
    let account = AccountId::parse(s).ok().or_else(|| {
        let mut fields = s.split(':');
        (fields.next() == Some("arn"))
            .then(|| fields.nth(3))
            .flatten()
            .and_then(|a| AccountId::parse(a).ok())
    });
    TrustedPrincipal {
        kind: PrincipalKind::Aws,
        principal: s.to_owned(),
        account,
        in_organization: None,
        conditions: conditions.to_vec(),
    }
}

/// The condition keys of a `Condition` block (`{"StringEquals": {"sts:ExternalId": …}}` →
/// `["sts:ExternalId"]`), each once, ordered by operator name then key (JSON objects are
/// read without their order).
fn condition_keys(condition: Option<&Value>) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    if let Some(Value::Object(ops)) = condition {
        for block in ops.values() {
            if let Value::Object(map) = block {
                for k in map.keys() {
                    if !keys.iter().any(|x| x.eq_ignore_ascii_case(k)) {
                        keys.push(k.clone());
                    }
                }
            }
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORG: [&str; 2] = ["111111111111", "222222222222"];

    fn members() -> BTreeSet<AccountId> {
        ORG.iter().map(|a| AccountId::parse(a).unwrap()).collect()
    }

    fn own() -> AccountId {
        AccountId::parse("333333333333").unwrap()
    }

    /// (kind, principal, account, in organization, external id, conditions) of a principal.
    type Brief = (PrincipalKind, String, Option<String>, Option<bool>, bool, Vec<String>);

    fn brief(doc: &str) -> Vec<Brief> {
        judge(trusted_principals(doc).unwrap(), &own(), &members())
            .into_iter()
            .map(|p| {
                let ext = p.has_external_id();
                (
                    p.kind,
                    p.principal,
                    p.account.map(|a| a.to_string()),
                    p.in_organization,
                    ext,
                    p.conditions,
                )
            })
            .collect()
    }

    fn policy(statement: &str) -> String {
        format!(r#"{{"Version":"2012-10-17","Statement":[{statement}]}}"#)
    }

    #[test]
    fn plain_and_url_encoded_documents_parse_alike() {
        let plain = policy(
            r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"sts:AssumeRole"}"#,
        );
        let encoded: String =
            percent_encoding::utf8_percent_encode(&plain, percent_encoding::NON_ALPHANUMERIC).to_string();
        assert!(encoded.starts_with("%7B%22Version%22"), "{encoded}");
        assert_eq!(brief(&plain), brief(&encoded));
        assert_eq!(
            brief(&encoded),
            [(
                PrincipalKind::Aws,
                "arn:aws:iam::999999999999:root".into(),
                Some("999999999999".into()),
                Some(false),
                false,
                vec![]
            )]
        );
    }

    #[test]
    fn what_moto_and_iam_send_decodes() {
        // IAM's own encoding (moto's GetRole answer): every reserved character escaped.
        let iam = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22AWS%22%3A%22arn%3Aaws%3Aiam%3A%3A999999999999%3Aroot%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%2C%22Condition%22%3A%7B%22StringEquals%22%3A%7B%22sts%3AExternalId%22%3A%22x%22%7D%7D%7D%5D%7D";
        assert_eq!(
            brief(iam),
            [(
                PrincipalKind::Aws,
                "arn:aws:iam::999999999999:root".into(),
                Some("999999999999".into()),
                Some(false),
                true,
                vec!["sts:ExternalId".into()]
            )]
        );
    }

    #[test]
    fn anyone_with_and_without_a_condition() {
        let bare = brief(&policy(
            r#"{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}"#,
        ));
        assert_eq!(bare, [(PrincipalKind::Anyone, "*".into(), None, None, false, vec![])]);
        let aws_star = brief(&policy(
            r#"{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}}"#,
        ));
        assert_eq!(
            aws_star,
            [(
                PrincipalKind::Anyone,
                "*".into(),
                None,
                None,
                false,
                vec!["aws:PrincipalOrgID".into()]
            )]
        );
        let not_principal = brief(&policy(
            r#"{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}"#,
        ));
        assert_eq!(not_principal[0].0, PrincipalKind::Anyone);
    }

    #[test]
    fn account_forms_root_arn_bare_id_and_role_arn_inside_and_outside() {
        let got = brief(&policy(
            r#"{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111111111111:root","222222222222","arn:aws:iam::444444444444:role/ci","333333333333","arn:aws-us-gov:sts::555555555555:assumed-role/r/s","AROAEXAMPLEUNIQUEID"]},"Action":"sts:AssumeRole"}"#,
        ));
        let accounts: Vec<(Option<String>, Option<bool>)> = got.into_iter().map(|p| (p.2, p.3)).collect();
        assert_eq!(
            accounts,
            [
                (Some("111111111111".into()), Some(true)),
                (Some("222222222222".into()), Some(true)),
                (Some("444444444444".into()), Some(false)),
                (Some("333333333333".into()), Some(true)),
                (Some("555555555555".into()), Some(false)),
                (None, None),
            ]
        );
    }

    #[test]
    fn principal_as_a_string_or_a_list_and_statement_as_an_object() {
        let one = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"999999999999"},"Action":"sts:AssumeRole"}}"#;
        let list = policy(r#"{"Effect":"Allow","Principal":{"AWS":["999999999999"]},"Action":"sts:AssumeRole"}"#);
        assert_eq!(brief(one), brief(&list));
        assert_eq!(brief(one)[0].2.as_deref(), Some("999999999999"));
    }

    #[test]
    fn service_and_federated_principals_name_no_account() {
        let got = brief(&policy(
            r#"{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com","lambda.amazonaws.com"]},"Action":"sts:AssumeRole"},
               {"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::999999999999:saml-provider/okta"},"Action":"sts:AssumeRoleWithSAML","Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}"#,
        ));
        let kinds: Vec<(PrincipalKind, &str, Option<bool>)> = got.iter().map(|p| (p.0, p.1.as_str(), p.3)).collect();
        assert_eq!(
            kinds,
            [
                (PrincipalKind::Service, "ec2.amazonaws.com", None),
                (PrincipalKind::Service, "lambda.amazonaws.com", None),
                (
                    PrincipalKind::Federated,
                    "arn:aws:iam::999999999999:saml-provider/okta",
                    None
                ),
            ]
        );
        assert_eq!(got[2].5, ["SAML:aud"]);
    }

    #[test]
    fn deny_statements_trust_nobody_and_external_id_is_case_insensitive() {
        let got = brief(&policy(
            r#"{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole"},
               {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:externalid":"42"},"Bool":{"aws:MultiFactorAuthPresent":"true"}}}"#,
        ));
        assert_eq!(got.len(), 1);
        assert!(got[0].4, "sts:externalid counts as sts:ExternalId");
        assert_eq!(got[0].5, ["aws:MultiFactorAuthPresent", "sts:externalid"]);
    }

    /// The error of a document made of `statement`.
    fn refused(statement: &str) -> String {
        trusted_principals(&policy(statement)).expect_err(statement)
    }

    #[test]
    fn principals_of_unexpected_types_are_errors_not_an_empty_trust() {
        // Before: each of these read as a role trusting nobody, with no warning.
        for (statement, says) in [
            (
                r#"{"Effect":"Allow","Principal":{"AWS":123},"Action":"sts:AssumeRole"}"#,
                "Principal AWS",
            ),
            (
                r#"{"Effect":"Allow","Principal":{"AWS":[123,"*"]},"Action":"sts:AssumeRole"}"#,
                "Principal AWS",
            ),
            (
                r#"{"Effect":"Allow","Principal":{"AWS":{"x":"*"}},"Action":"sts:AssumeRole"}"#,
                "Principal AWS",
            ),
            (
                r#"{"Effect":"Allow","Principal":{"AWS":[]},"Action":"sts:AssumeRole"}"#,
                "Principal AWS",
            ),
            (
                r#"{"Effect":"Allow","Principal":{"Service":null},"Action":"sts:AssumeRole"}"#,
                "Principal Service",
            ),
            (
                r#"{"Effect":"Allow","Principal":{},"Action":"sts:AssumeRole"}"#,
                "empty Principal",
            ),
            (
                r#"{"Effect":"Allow","Principal":42,"Action":"sts:AssumeRole"}"#,
                "Principal is not",
            ),
            (
                r#"{"Effect":"Allow","Principal":["*"],"Action":"sts:AssumeRole"}"#,
                "Principal is not",
            ),
            (
                r#"{"Effect":"Allow","Principal":null,"Action":"sts:AssumeRole"}"#,
                "Principal is not",
            ),
            (r#"{"Effect":"Allow","Action":"sts:AssumeRole"}"#, "without a Principal"),
            (
                r#"{"Effect":["Allow"],"Principal":"*","Action":"sts:AssumeRole"}"#,
                "no Effect",
            ),
            (
                r#"{"Effect":"allow","Principal":"*","Action":"sts:AssumeRole"}"#,
                "no Effect",
            ),
            (r#"{"Principal":"*","Action":"sts:AssumeRole"}"#, "no Effect"),
            (r#""*""#, "not an object"),
        ] {
            let e = refused(statement);
            assert!(e.contains(says), "{statement}: {e}");
            assert!(e.starts_with("statement 1"), "{statement}: {e}");
        }
        // One bad statement spoils the document even after a good one.
        let e = refused(
            r#"{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"},
               {"Effect":"Allow","Principal":{"AWS":false},"Action":"sts:AssumeRole"}"#,
        );
        assert_eq!(e, "statement 2: Principal AWS holds a value that is not a string");
    }

    #[test]
    fn a_partly_unreadable_policy_keeps_what_it_could_read_and_says_what_not() {
        // A bad value beside "*" must not hide the "*" (the role would lose its
        // role-trusts-anyone finding): the strings are kept, the rest is a problem.
        let t = read_trust(&policy(
            r#"{"Effect":"Allow","Principal":{"AWS":["*",5]},"Action":"sts:AssumeRole"},
               {"Effect":"allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"sts:AssumeRole"},
               7"#,
        ))
        .unwrap();
        assert_eq!(
            t.principals
                .iter()
                .map(|p| (p.kind, p.principal.as_str()))
                .collect::<Vec<_>>(),
            [
                (PrincipalKind::Anyone, "*"),
                (PrincipalKind::Aws, "arn:aws:iam::999999999999:root")
            ]
        );
        assert_eq!(
            t.problems,
            [
                "statement 1: Principal AWS holds a value that is not a string",
                "statement 2 has no Effect of Allow or Deny (read as Allow)",
                "statement 3 is not an object",
            ]
        );
        let clean = read_trust(&policy(
            r#"{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}"#,
        ))
        .unwrap();
        assert!(clean.problems.is_empty());
    }

    #[test]
    fn a_wildcard_aws_principal_trusts_anyone() {
        let got = brief(&policy(
            r#"{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::*:root","arn:aws:iam::111111111111:role/ci-?"]},"Action":"sts:AssumeRole"}"#,
        ));
        assert_eq!(
            got,
            [
                (
                    PrincipalKind::Anyone,
                    "arn:aws:iam::*:root".into(),
                    None,
                    None,
                    false,
                    vec![]
                ),
                (
                    PrincipalKind::Anyone,
                    "arn:aws:iam::111111111111:role/ci-?".into(),
                    None,
                    None,
                    false,
                    vec![]
                ),
            ]
        );
    }

    #[test]
    fn hostile_encodings_and_nesting_are_errors_not_panics() {
        // Deep nesting, plain and URL-encoded: serde_json's depth limit, not a stack overflow.
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(trusted_principals(&deep).unwrap_err().contains("not JSON"));
        let deep_object = format!(r#"{{"Statement":{}1{}}}"#, "{\"a\":".repeat(50_000), "}".repeat(50_000));
        assert!(trusted_principals(&deep_object).unwrap_err().contains("not JSON"));
        let encoded = "%5B".repeat(100_000);
        assert!(trusted_principals(&encoded).unwrap_err().contains("not JSON"));
        // Percent-escapes of bytes that are not UTF-8, inside an otherwise fine document.
        let bad_utf8 =
            "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%22%C3%28%22%7D%5D%7D";
        assert!(trusted_principals(bad_utf8).unwrap_err().contains("UTF-8"));
        // A truncated escape and a lone `%`.
        assert!(
            trusted_principals("%7B%22Statement%2")
                .unwrap_err()
                .contains("not JSON")
        );
        assert!(trusted_principals("%").unwrap_err().contains("not JSON"));
        assert!(trusted_principals("").unwrap_err().contains("not JSON"));
        // JSON that is not an object: no Statement.
        for doc in ["null", "42", r#""%7B%7D""#, "[]"] {
            assert_eq!(
                trusted_principals(doc).unwrap_err(),
                "no Statement in the policy",
                "{doc}"
            );
        }
        assert_eq!(
            trusted_principals(r#"{"Statement":"Allow everyone"}"#).unwrap_err(),
            "no Statement in the policy"
        );
    }

    #[test]
    fn garbage_is_an_error_not_an_empty_trust() {
        assert!(trusted_principals("%7Bnot json").unwrap_err().contains("not JSON"));
        assert!(trusted_principals("%FF%FE").unwrap_err().contains("UTF-8"));
        assert_eq!(trusted_principals("{}").unwrap_err(), "no Statement in the policy");
    }
}
