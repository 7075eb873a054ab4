//! What every page's layout needs: translator, who is logged in, the CSRF
//! token, and the navigation that role may use.

use super::auth::Staff;
use super::i18n::Tr;
use crate::domain::role::Role;

/// One navigation link.
#[derive(Debug, Clone)]
pub struct NavItem {
    /// Target path.
    pub href: &'static str,
    /// i18n key of the label.
    pub key: &'static str,
}

/// Layout data shared by all pages (`templates/base.html`).
#[derive(Debug, Clone)]
pub struct PageCtx {
    /// Translator.
    pub tr: Tr,
    /// Display name of the logged-in user.
    pub user_name: Option<String>,
    /// Role name of the logged-in user.
    pub role: Option<Role>,
    /// Unit name of the logged-in user.
    pub unit_name: String,
    /// CSRF token for forms.
    pub csrf: String,
    /// Current path (for the language switch).
    pub path: String,
    /// Links this user may follow.
    pub nav: Vec<NavItem>,
}

impl PageCtx {
    /// Context of a logged-in staff page.
    pub fn for_staff(s: &Staff) -> Self {
        PageCtx {
            tr: s.tr,
            user_name: Some(s.user.display_name.clone()),
            role: Some(s.user.role),
            unit_name: s.unit.name.clone(),
            csrf: s.csrf.clone(),
            path: s.path.clone(),
            nav: nav_for(s.user.role),
        }
    }

    /// Context of a public page.
    pub fn anonymous(tr: Tr, path: &str, csrf: &str) -> Self {
        PageCtx {
            tr,
            user_name: None,
            role: None,
            unit_name: String::new(),
            csrf: csrf.to_owned(),
            path: path.to_owned(),
            nav: Vec::new(),
        }
    }

    /// The role's translated name.
    pub fn role_label(&self) -> String {
        self.role
            .map(|r| self.tr.tp("role.", r.as_str()))
            .unwrap_or_default()
    }

    /// Whether the reader is an administrator (shows edit forms).
    pub fn is_admin(&self) -> bool {
        self.role.is_some_and(Role::can_administer)
    }
}

/// Navigation for a role: only what it may open.
pub fn nav_for(role: Role) -> Vec<NavItem> {
    let item = |href, key| NavItem { href, key };
    let mut nav = vec![item("/staff", "nav.home")];
    if role != Role::Admin {
        nav.push(item("/queue", "nav.queue"));
    }
    if matches!(role, Role::Cadre | Role::Dispatcher) {
        nav.push(item("/requests/new", "nav.intake"));
        nav.push(item("/requests/batch", "nav.batch"));
    }
    nav.push(item("/requests", "nav.search"));
    if matches!(role, Role::Cadre | Role::Dispatcher | Role::Supervisor) {
        nav.push(item("/meetings", "nav.meetings"));
    }
    if matches!(role, Role::Cadre | Role::Dispatcher) {
        nav.push(item("/report-back", "nav.report_back"));
    }
    if role != Role::Cadre {
        nav.push(item("/overdue", "nav.overdue"));
    }
    if super::dashboard::may_view(role) {
        nav.push(item("/dashboard", "stats.nav"));
    }
    nav.push(item("/admin/units", "nav.units"));
    nav.push(item("/admin/categories", "nav.categories"));
    if role.can_read_routing() {
        nav.push(item("/admin/rules", "nav.rules"));
    }
    nav.push(item("/admin/calendar", "nav.calendar"));
    if role.can_administer() {
        nav.push(item("/admin/users", "nav.users"));
        nav.push(item("/admin/outbox", "nav.outbox"));
    }
    nav
}
