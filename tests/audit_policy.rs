//! The README's audit-role policy against the code: every read the scan makes (`iam:List*`,
//! `iam:Get*`, `iam:Generate*` named where its error is classified) is allowed by the policy,
//! every action the policy allows is called, and every `organizations:` read is named for
//! the caller. A new AWS call without its permission fails here, not in someone's account.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let path = e.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// All of `src/` as one text.
fn source_text() -> String {
    let mut files = Vec::new();
    sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
    files.sort();
    files.iter().map(|f| std::fs::read_to_string(f).unwrap()).collect()
}

/// Every `"<service>:<Action>"` string literal in `text` whose action starts with one of
/// `verbs`, as `Action`.
fn actions_named(text: &str, service: &str, verbs: &[&str]) -> BTreeSet<String> {
    let needle = format!("\"{service}:");
    text.match_indices(&needle)
        .filter_map(|(at, _)| {
            let rest = &text[at + needle.len()..];
            let end = rest.find('"')?;
            let action = &rest[..end];
            (action.chars().all(|c| c.is_ascii_alphanumeric()) && verbs.iter().any(|v| action.starts_with(v)))
                .then(|| action.to_owned())
        })
        .collect()
}

/// `ListSSHPublicKeys` → `list_ssh_public_keys` (the SDK's method name).
fn snake(action: &str) -> String {
    let chars: Vec<char> = action.chars().collect();
    let mut out = String::new();
    for (i, c) in chars.iter().enumerate() {
        let prev_lower = i > 0 && chars[i - 1].is_ascii_lowercase();
        let next_lower = chars.get(i + 1).is_some_and(char::is_ascii_lowercase);
        let prev_upper = i > 0 && chars[i - 1].is_ascii_uppercase();
        if c.is_ascii_uppercase() && i > 0 && (prev_lower || (prev_upper && next_lower)) {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// The `Action` list of the README's `KeytriageAudit` statement, without the `iam:` prefix.
fn audit_policy() -> BTreeSet<String> {
    policy("KeytriageAudit")
        .iter()
        .map(|a| {
            a.strip_prefix("iam:")
                .unwrap_or_else(|| panic!("{a}: the audit role needs iam actions only"))
                .to_owned()
        })
        .collect()
}

/// The actions (`service:Action`) of the README's policy with this `Sid`.
fn policy(sid: &str) -> BTreeSet<String> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let block = readme
        .split("```json")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .find(|b| b.contains(&format!("\"{sid}\"")))
        .unwrap_or_else(|| panic!("README has the {sid} policy"));
    let doc: serde_json::Value = serde_json::from_str(block).expect("the audit policy is JSON");
    doc["Statement"][0]["Action"]
        .as_array()
        .expect("Action is a list")
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn snake_case_matches_the_sdk() {
    assert_eq!(snake("ListSSHPublicKeys"), "list_ssh_public_keys");
    assert_eq!(snake("ListVirtualMFADevices"), "list_virtual_mfa_devices");
    assert_eq!(snake("GetAccessKeyLastUsed"), "get_access_key_last_used");
}

#[test]
fn every_iam_read_the_code_makes_is_in_the_audit_policy() {
    let code = actions_named(&source_text(), "iam", &["List", "Get", "Generate"]);
    assert!(code.contains("ListSSHPublicKeys") && code.len() >= 12, "{code:?}");
    let audit = audit_policy();
    assert!(
        audit
            .iter()
            .all(|a| ["List", "Get", "Generate"].iter().any(|v| a.starts_with(v))),
        "the audit role reads only: {audit:?}"
    );
    // `GetUser` is read by the write path only (the console password's last use, live, before
    // `DeleteLoginProfile`), with the remediation role.
    let write_path_only = BTreeSet::from(["GetUser".to_owned()]);
    assert!(policy("KeytriageRemediation").contains("iam:GetUser"));
    let missing: Vec<&String> = code
        .difference(&audit)
        .filter(|a| !write_path_only.contains(*a))
        .collect();
    assert!(missing.is_empty(), "add to the README's audit policy: {missing:?}");
}

#[test]
fn every_action_of_the_audit_policy_is_called() {
    let text = source_text();
    let unused: Vec<String> = audit_policy()
        .into_iter()
        .filter(|a| !text.contains(&format!(".{}()", snake(a))))
        .collect();
    assert!(
        unused.is_empty(),
        "the policy allows what the code never calls: {unused:?}"
    );
}

#[test]
fn every_organizations_read_is_named_for_the_caller() {
    let code = actions_named(&source_text(), "organizations", &["List", "Describe"]);
    assert!(code.len() >= 5, "{code:?}");
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let missing: Vec<&String> = code
        .iter()
        .filter(|a| !readme.contains(&format!("`organizations:{a}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "name in the README's caller permissions: {missing:?}"
    );
}
