//! The `:roles` view on a fixed model and clock: its snapshot, Enter and `i` on a role (the
//! exact trusted principals and the last use), a role finding's Enter landing on its role,
//! and a role never counted as a same-named user's finding.

use chrono::Duration;
use keytriage::audit::Policy;
use keytriage::model::*;
use keytriage::scan::ScanEvent;
use keytriage::tui::app::{App, Mode};
use keytriage::tui::keymap::Action;
use keytriage::tui::render;
use keytriage::tui::table::RowId;
use keytriage::tui::theme::Theme;
use keytriage::tui::views::ViewKind;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

mod fixture;

use fixture::{account, now, press, root_ok, user};

fn role(name: &str, path: &str, age: i64, used: Option<(i64, &str)>, trust: &str) -> Role {
    let own = AccountId::parse("111111111111").unwrap();
    let members = [AccountId::parse("222222222222").unwrap()].into_iter().collect();
    let trusted = keytriage::aws::roles::trusted_principals(trust).unwrap();
    Role {
        name: name.into(),
        path: path.into(),
        arn: format!("arn:aws:iam::111111111111:role{path}{name}"),
        id: format!("AROA{}", name.len()),
        created: now() - Duration::days(age),
        last_used: used.map(|(d, r)| RoleLastUsed {
            date: now() - Duration::days(d),
            region: Some(r.into()),
        }),
        trusted: keytriage::aws::roles::judge(trusted, &own, &members),
    }
}

fn trust(principal: &str, condition: &str) -> String {
    format!(r#"{{"Statement":[{{"Effect":"Allow","Principal":{principal},"Action":"sts:AssumeRole"{condition}}}]}}"#)
}

fn app() -> App {
    let prod = account("111111111111", "prod-payments", "/Production", AccountState::Active);
    let dev = account("222222222222", "dev", "/Development", AccountState::Active);
    let mut scan = AccountScan::ok(
        prod.clone(),
        root_ok(),
        vec![user("deploy", 10, None, None, vec![])],
        vec![],
    );
    scan.roles = Some(vec![
        role(
            "vendor-audit",
            "/integrations/",
            420,
            Some((9, "eu-central-1")),
            &trust(
                r#"{"AWS":["arn:aws:iam::999988887777:root","arn:aws:iam::222222222222:root"]}"#,
                "",
            ),
        ),
        role(
            "datadog",
            "/",
            700,
            Some((0, "eu-west-1")),
            &trust(
                r#"{"AWS":"464622532012"}"#,
                r#","Condition":{"StringEquals":{"sts:ExternalId":"x1"}}"#,
            ),
        ),
        role(
            "deploy",
            "/ci/",
            700,
            Some((300, "us-east-1")),
            &trust(r#"{"AWS":"222222222222"}"#, ""),
        ),
        role(
            "AWSServiceRoleForElasticLoadBalancing",
            "/aws-service-role/elasticloadbalancing.amazonaws.com/",
            2000,
            None,
            &trust(r#"{"Service":"elasticloadbalancing.amazonaws.com"}"#, ""),
        ),
    ]);
    let mut dev_scan = AccountScan::ok(dev.clone(), root_ok(), vec![], vec![]);
    dev_scan.roles = Some(vec![role("public-demo", "/", 100, None, &trust(r#""*""#, ""))]);
    let events = [
        ScanEvent::Discovered {
            scan_id: 1,
            organization: None,
            accounts: vec![prod, dev],
            warnings: vec![],
            missing: vec![],
        },
        ScanEvent::AccountDone {
            scan_id: 1,
            scan: Box::new(scan),
        },
        ScanEvent::AccountDone {
            scan_id: 1,
            scan: Box::new(dev_scan),
        },
        ScanEvent::Finished { scan_id: 1 },
    ];
    fixture::app_of(events, false)
}

fn command(app: &mut App, cmd: &str) {
    press(app, Action::Command);
    for c in cmd.chars() {
        app.on_key(crossterm::event::KeyCode::Char(c).into());
    }
    app.on_key(crossterm::event::KeyCode::Enter.into());
    app.refresh();
}

fn screen(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| render::draw(app, &Theme { no_color: true }, f)).unwrap();
    t
}

fn text(t: &Terminal<TestBackend>) -> String {
    let buf = t.backend().buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

#[test]
fn roles_view_names_the_outside_principals() {
    let mut app = app();
    command(&mut app, "roles");
    assert_eq!(app.view().kind, ViewKind::Roles);
    insta::assert_snapshot!("roles_160x14", screen(&app, 160, 14).backend());
    let shown = text(&screen(&app, 160, 14));
    assert!(shown.contains("999988887777"), "the outside account is named:\n{shown}");
    assert!(shown.contains("464622532012 (external id)"), "{shown}");
    for (w, h) in [(1, 1), (0, 0), (20, 5)] {
        screen(&app, w, h);
    }
}

#[test]
fn enter_on_a_role_shows_its_trusted_principals_and_last_use() {
    let mut app = app();
    command(&mut app, "roles");
    app.view_select(&RowId::Role(
        AccountId::parse("111111111111").unwrap(),
        "vendor-audit".into(),
    ));
    press(&mut app, Action::Open);
    assert_eq!(app.mode, Mode::Detail);
    let detail = keytriage::tui::detail::build(
        &RowId::Role(AccountId::parse("111111111111").unwrap(), "vendor-audit".into()),
        &app.store,
        &Policy::default(),
        now(),
        &Theme { no_color: true },
    )
    .unwrap();
    let body = detail.text();
    for line in [
        "last used  9d ago (2026-11-20 12:00 UTC) in eu-central-1",
        "aws       arn:aws:iam::999988887777:root — OUTSIDE the organization (account 999988887777), no condition",
        "aws       arn:aws:iam::222222222222:root — in the organization, no condition",
        "HIGH role-trusts-outside-org: trusts 1 account outside the organization without an sts:ExternalId condition: 999988887777",
    ] {
        assert!(body.lines().any(|l| l == line), "missing {line:?} in:\n{body}");
    }
    insta::assert_snapshot!("role_detail_100x30", screen(&app, 100, 30).backend());
    press(&mut app, Action::Back);
    press(&mut app, Action::Details);
    assert_eq!(app.mode, Mode::Detail, "i shows it too");
}

#[test]
fn a_role_finding_opens_its_role_and_never_counts_for_a_user_of_the_same_name() {
    let mut app = app();
    command(&mut app, "findings");
    let id = RowId::Finding(
        AccountId::parse("111111111111").unwrap(),
        "deploy".into(),
        None,
        "role-unused",
    );
    app.view_select(&id);
    press(&mut app, Action::Open);
    assert_eq!(app.view().kind, ViewKind::Roles);
    assert_eq!(
        app.view().table.selected_row().map(|r| r.id.clone()),
        Some(RowId::Role(AccountId::parse("111111111111").unwrap(), "deploy".into()))
    );
    // The IAM user `deploy` has no finding of its own.
    let rows = ViewKind::Users(None).rows(&app.store, &Policy::default(), now());
    let deploy = rows
        .iter()
        .find(|r| r.id == RowId::User(AccountId::parse("111111111111").unwrap(), "deploy".into()))
        .unwrap();
    assert_eq!(deploy.cells.last().map(|c| c.as_str()), Some("-"));
}

#[test]
fn a_users_view_lists_no_finding_of_a_role_with_the_users_name() {
    // Before: the user view's findings panel of the IAM user `deploy` listed the role
    // `deploy`'s role-unused finding as the user's.
    let mut app = app();
    command(&mut app, "users");
    let deploy = RowId::User(AccountId::parse("111111111111").unwrap(), "deploy".into());
    app.view_select(&deploy);
    assert_eq!(app.view().table.selected_row().map(|r| r.id.clone()), Some(deploy));
    press(&mut app, Action::Open);
    assert_eq!(
        app.view().kind,
        ViewKind::User(AccountId::parse("111111111111").unwrap(), "deploy".into())
    );
    let shown = text(&screen(&app, 120, 30));
    assert!(shown.contains("findings (0)"), "{shown}");
    assert!(!shown.contains("role-unused"), "{shown}");
}

#[test]
fn a_role_whose_trust_policy_was_not_read_does_not_look_clean_in_the_roles_view() {
    // Before: its TRUSTED OUTSIDE cell read "-", like a role trusting only its organization.
    let mut app = app();
    let prod = AccountId::parse("111111111111").unwrap();
    let mut unread = role("broken-trust", "/", 3, None, &trust(r#""*""#, ""));
    unread.trusted.clear(); // what the scan keeps when the policy does not parse
    let entry = app.store.accounts.iter_mut().find(|e| e.account.id == prod).unwrap();
    entry.scan.as_mut().unwrap().roles.as_mut().unwrap().push(unread);
    app.store.generation += 1;
    app.refresh();
    command(&mut app, "roles");
    let rows = cells_of(&app);
    let row = rows.iter().find(|r| r.iter().any(|c| c == "broken-trust")).unwrap();
    assert!(row.iter().any(|c| c == "none read (see warnings)"), "{row:?}");
    let vendor = rows.iter().find(|r| r.iter().any(|c| c == "vendor-audit")).unwrap();
    assert!(vendor.iter().any(|c| c == "999988887777"), "{vendor:?}");
    let deploy = rows.iter().find(|r| r.iter().any(|c| c == "deploy")).unwrap();
    assert!(deploy.iter().any(|c| c == "-"), "in the organization only: {deploy:?}");
}

fn cells_of(app: &App) -> Vec<Vec<String>> {
    app.view()
        .table
        .shown()
        .map(|r| r.cells.iter().map(|c| c.to_string()).collect())
        .collect()
}

#[test]
fn a_role_findings_threshold_is_a_field_of_the_role_not_a_trusted_principal() {
    // Before: `policy     unused role after 90 days` came last, under "trusted principals",
    // reading like part of the trust policy.
    let app = app();
    let finding = RowId::Finding(
        AccountId::parse("111111111111").unwrap(),
        "deploy".into(),
        None,
        "role-unused",
    );
    let body = keytriage::tui::detail::build(
        &finding,
        &app.store,
        &Policy::default(),
        now(),
        &Theme { no_color: true },
    )
    .unwrap()
    .text();
    let at = |line: &str| {
        body.lines()
            .position(|l| l.starts_with(line))
            .unwrap_or_else(|| panic!("no {line:?} in:\n{body}"))
    };
    assert!(at("last used ") < at("policy     unused role after 90 days"), "{body}");
    assert!(at("policy     ") < at("trusted principals (1)"), "{body}");
    // Only principals (and the blank line before the next heading) follow the heading.
    let principals: Vec<&str> = body
        .lines()
        .skip(at("trusted principals (1)") + 1)
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(
        principals,
        ["aws       222222222222 — in the organization, no condition"]
    );
}

#[test]
fn e_on_a_role_finding_opens_the_exception_dialog() {
    let mut app = app();
    command(&mut app, "findings");
    app.view_select(&RowId::Finding(
        AccountId::parse("111111111111").unwrap(),
        "deploy".into(),
        None,
        "role-unused",
    ));
    press(&mut app, Action::Except);
    let said = app.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default();
    assert!(
        app.except.form().is_some(),
        "the dialog opens for a role finding (said: {said})"
    );
    assert!(!said.contains("not in the latest scan"), "{said}");
}
