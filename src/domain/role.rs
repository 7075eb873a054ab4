//! Staff roles and what each may do.

use std::fmt;

/// The five staff roles of DESIGN.md §1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Units, categories, rules, calendar, accounts.
    Admin,
    /// Township dispatcher: routing checks, dispatch, meeting agenda.
    Dispatcher,
    /// Unit handler: accepts and works requests at its unit.
    Handler,
    /// Village cadre: logs requests, reports back in person.
    Cadre,
    /// Supervisor: watches overdue items, reads reports.
    Supervisor,
}

impl Role {
    /// Every role, in display order.
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Dispatcher,
        Role::Handler,
        Role::Cadre,
        Role::Supervisor,
    ];

    /// Stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Dispatcher => "dispatcher",
            Role::Handler => "handler",
            Role::Cadre => "cadre",
            Role::Supervisor => "supervisor",
        }
    }

    /// Parses a stored or submitted name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }

    /// May edit units, categories, rules, calendar and accounts.
    pub fn can_administer(self) -> bool {
        self == Role::Admin
    }

    /// May read the routing set-up and try a route (admin, dispatcher, supervisor).
    pub fn can_read_routing(self) -> bool {
        matches!(self, Role::Admin | Role::Dispatcher | Role::Supervisor)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_round_trips_through_its_name() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn only_admins_administer() {
        let admins: Vec<_> = Role::ALL
            .into_iter()
            .filter(|r| r.can_administer())
            .collect();
        assert_eq!(admins, vec![Role::Admin]);
        assert!(!Role::Cadre.can_read_routing());
        assert!(!Role::Handler.can_read_routing());
        assert!(Role::Dispatcher.can_read_routing());
    }
}
