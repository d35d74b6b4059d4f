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

/// Walks the OU tree breadth-first: account id → OU path (`/` for the root, `/Prod/Payments`).
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
                    let name = ou.name().unwrap_or(id);
                    let child = if path == "/" {
                        format!("/{name}")
                    } else {
                        format!("{path}/{name}")
                    };
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
