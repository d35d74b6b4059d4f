//! The organization: which accounts exist, their state and organizational unit path.
//! Sources: `organizations:DescribeOrganization`, `ListAccounts`, `ListRoots`,
//! `ListOrganizationalUnitsForParent`, `ListAccountsForParent`; `iam:ListAccountAliases`
//! for a standalone account's name.

use super::{AwsContext, Error, classify};
use crate::model::{Account, AccountId, AccountState, Organization};
use aws_sdk_organizations::Client;
use aws_sdk_organizations::error::ProvideErrorMetadata;
use std::collections::{HashMap, VecDeque};

/// The organization and its accounts, sorted by name.
#[derive(Clone, Debug)]
pub struct Discovery {
    /// `None` when the caller's account is not in an organization (then `accounts` holds just it).
    pub organization: Option<Organization>,
    /// Every account, in every state.
    pub accounts: Vec<Account>,
    /// Non-fatal problems, e.g. the OU tree could not be read.
    pub warnings: Vec<String>,
}

/// Lists the organization's accounts with their OU paths.
///
/// # Errors
/// Any failure of `DescribeOrganization` or `ListAccounts` (AccessDenied when the caller is
/// not in the management account or a delegated administrator). A failure to walk the OU
/// tree is only a warning: accounts then have an empty `ou_path`.
pub async fn discover(ctx: &AwsContext) -> Result<Discovery, Error> {
    let client = Client::new(&ctx.base);
    let organization = match client.describe_organization().send().await {
        Ok(out) => out.organization().map(|o| Organization {
            id: o.id().unwrap_or_default().to_owned(),
            management_account_id: AccountId::parse(o.master_account_id().unwrap_or_default())
                .unwrap_or_else(|_| ctx.caller.account_id.clone()),
        }),
        Err(e) if e.code() == Some("AWSOrganizationsNotInUseException") => None,
        Err(e) => return Err(classify("organizations:DescribeOrganization", e)),
    };
    let Some(organization) = organization else {
        return Ok(Discovery {
            organization: None,
            accounts: vec![standalone(ctx).await],
            warnings: vec![],
        });
    };

    let mut accounts = Vec::new();
    let mut pages = client.list_accounts().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| classify("organizations:ListAccounts", e))?;
        for a in page.accounts() {
            let Ok(id) = AccountId::parse(a.id().unwrap_or_default()) else {
                continue;
            };
            accounts.push(Account {
                id,
                name: a.name().unwrap_or_default().to_owned(),
                email: a.email().unwrap_or_default().to_owned(),
                state: AccountState::from_aws(a.state().map(|s| s.as_str()).unwrap_or("ACTIVE")),
                ou_path: String::new(),
            });
        }
    }
    let mut warnings = Vec::new();
    match ou_paths(&client).await {
        Ok(paths) => {
            for a in &mut accounts {
                a.ou_path = paths.get(a.id.as_str()).cloned().unwrap_or_default();
            }
        }
        Err(e) => warnings.push(format!("organizational units not shown: {e}")),
    }
    accounts.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    Ok(Discovery {
        organization: Some(organization),
        accounts,
        warnings,
    })
}

/// The path of OU `name` under the OU at `parent` (`/` for the root). In the name, a
/// backslash is doubled and `/` becomes `\/`, so an OU named `EU/West` (path `/EU\/West`)
/// is told apart from an OU `West` inside an OU `EU` (`/EU/West`); names without `/` or a
/// backslash are unchanged.
pub fn child_path(parent: &str, name: &str) -> String {
    let escaped = name.replace('\\', "\\\\").replace('/', "\\/");
    if parent == "/" {
        format!("/{escaped}")
    } else {
        format!("{parent}/{escaped}")
    }
}

/// Splits an OU path made by [`child_path`] back into OU names, unescaped: `/` → `[]`,
/// `/EU\\/West` → `["EU/West"]`, `/EU/West` → `["EU", "West"]`.
pub fn path_names(path: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut current = String::new();
    let mut chars = path.strip_prefix('/').unwrap_or(path).chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => current.extend(chars.next()),
            '/' => names.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    if !current.is_empty() || !names.is_empty() {
        names.push(current);
    }
    names
}

/// Walks the OU tree breadth-first: account id → OU path (`/` for the root, `/Prod/Payments`,
/// names escaped by [`child_path`]).
async fn ou_paths(client: &Client) -> Result<HashMap<String, String>, Error> {
    let roots = client
        .list_roots()
        .send()
        .await
        .map_err(|e| classify("organizations:ListRoots", e))?;
    let mut queue: VecDeque<(String, String)> = roots
        .roots()
        .iter()
        .filter_map(|r| r.id())
        .map(|id| (id.to_owned(), "/".to_owned()))
        .collect();
    let mut paths = HashMap::new();
    while let Some((parent, path)) = queue.pop_front() {
        let mut pages = client
            .list_accounts_for_parent()
            .parent_id(&parent)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify("organizations:ListAccountsForParent", e))?;
            for a in page.accounts() {
                if let Some(id) = a.id() {
                    paths.insert(id.to_owned(), path.clone());
                }
            }
        }
        let mut pages = client
            .list_organizational_units_for_parent()
            .parent_id(&parent)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify("organizations:ListOrganizationalUnitsForParent", e))?;
            for ou in page.organizational_units() {
                if let Some(id) = ou.id() {
                    let child = child_path(&path, ou.name().unwrap_or(id));
                    queue.push_back((id.to_owned(), child));
                }
            }
        }
    }
    Ok(paths)
}

/// The caller's own account when there is no organization; named by its IAM alias if any.
async fn standalone(ctx: &AwsContext) -> Account {
    let iam = aws_sdk_iam::Client::new(&ctx.base);
    let alias = match iam.list_account_aliases().send().await {
        Ok(out) => out.account_aliases().first().cloned(),
        Err(_) => None,
    };
    Account {
        id: ctx.caller.account_id.clone(),
        name: alias.unwrap_or_else(|| ctx.caller.account_id.to_string()),
        email: String::new(),
        state: AccountState::Active,
        ou_path: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ou_named_with_a_slash_is_not_two_nested_ous() {
        let one = child_path("/", "EU/West");
        let two = child_path(&child_path("/", "EU"), "West");
        assert_eq!((one.as_str(), two.as_str()), ("/EU\\/West", "/EU/West"));
        assert_eq!(child_path("/Prod", "Pay\\ments"), "/Prod/Pay\\\\ments");
        assert_eq!(path_names(&one), ["EU/West"]);
        assert_eq!(path_names(&two), ["EU", "West"]);
        assert!(path_names("/").is_empty());
    }

    #[test]
    fn paths_round_trip_whatever_the_names() {
        // AWS OU names are 1 to 128 characters: never empty.
        let names = ["a", "EU/West", "x\\", "\\/", "/", "a\\/b/c"];
        for a in names {
            for b in names {
                let path = child_path(&child_path("/", a), b);
                assert_eq!(path_names(&path), [a, b], "{path}");
            }
        }
    }
}
