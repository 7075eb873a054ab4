//! Staff accounts.

use super::entities::user;
use super::{Error, Result, begin_write, unique_as_invalid, units};
use crate::domain::personal::Email;
use crate::domain::role::Role;
use crate::domain::{Validation, error::required_text};
use crate::password;
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder,
};

/// An account, without its password hash.
#[derive(Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct User {
    /// Id.
    pub id: i32,
    /// Login name.
    pub username: String,
    /// Name shown to colleagues.
    pub display_name: String,
    /// Role.
    #[schema(value_type = String, example = "cadre")]
    pub role: Role,
    /// The unit the account belongs to; it sees this unit's subtree.
    pub unit_id: i32,
    /// Disabled accounts cannot log in.
    pub active: bool,
    /// Address for notices to the unit (optional).
    pub email: Option<String>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("role", &self.role)
            .field("unit_id", &self.unit_id)
            .finish_non_exhaustive()
    }
}

impl TryFrom<user::Model> for User {
    type Error = Error;
    fn try_from(m: user::Model) -> Result<Self> {
        Ok(User {
            id: m.id,
            role: Role::parse(&m.role).ok_or(Error::NotFound)?,
            username: m.username,
            display_name: m.display_name,
            unit_id: m.unit_id,
            active: m.active,
            email: m.email,
        })
    }
}

/// One account.
pub async fn get(db: &impl ConnectionTrait, id: i32) -> Result<User> {
    user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound)?
        .try_into()
}

/// Accounts whose unit is one of `unit_ids` (`None`: all).
pub async fn list(db: &impl ConnectionTrait, unit_ids: Option<&[i32]>) -> Result<Vec<User>> {
    let mut q = user::Entity::find().order_by_asc(user::Column::Id);
    if let Some(ids) = unit_ids {
        q = q.filter(user::Column::UnitId.is_in(ids.iter().copied()));
    }
    q.all(db).await?.into_iter().map(User::try_from).collect()
}

/// Input for a new account or an edit (password optional on edit).
#[derive(Clone, Default, serde::Deserialize)]
pub struct UserInput {
    /// Login name (ignored on edit).
    #[serde(default)]
    pub username: String,
    /// New password.
    #[serde(default)]
    pub password: String,
    /// Display name.
    #[serde(default)]
    pub display_name: String,
    /// Role name.
    #[serde(default)]
    pub role: String,
    /// Unit.
    pub unit_id: Option<i32>,
    /// Active flag (edit only; forms send "on").
    pub active: Option<String>,
    /// Address for notices to the unit; empty clears it.
    #[serde(default)]
    pub email: Option<String>,
}

/// Minimum password length.
pub const MIN_PASSWORD_CHARS: usize = 8;

fn valid_username(s: &str) -> bool {
    (3..=32).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Validates and creates (`id` = `None`) or edits an account. `scope`: the
/// acting admin's unit (`None` for the command line).
pub async fn save(
    db: &DatabaseConnection,
    id: Option<i32>,
    input: &UserInput,
    scope: Option<i32>,
) -> Result<User> {
    let mut v = Validation::new();
    let username = input.username.trim().to_owned();
    if id.is_none() && !valid_username(&username) {
        v.add("username", "err.user.username");
    }
    let password_given = !input.password.is_empty();
    if (id.is_none() || password_given) && input.password.chars().count() < MIN_PASSWORD_CHARS {
        v.add("password", "err.user.password_short");
    }
    if input.password.chars().count() > 200 {
        v.add("password", "err.too_long");
    }
    let display_name = required_text(&mut v, "display_name", &input.display_name, 50);
    let role = Role::parse(&input.role);
    if role.is_none() {
        v.add("role", "err.user.role");
    }
    let tree = units::tree(db).await?;
    match input.unit_id.map(|u| (u, tree.kind(u))) {
        None => v.add("unit_id", "err.required"),
        Some((_, None)) => v.add("unit_id", "err.rule.no_unit"),
        Some((u, Some(_))) if scope.is_some_and(|s| !tree.is_within(u, s)) => {
            v.add("unit_id", "err.out_of_scope")
        }
        _ => {}
    }
    let email = match input
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        None => None,
        Some(e) => match Email::parse(e) {
            Ok(e) => Some(e.raw().to_owned()),
            Err(key) => {
                v.add("email", key);
                None
            }
        },
    };
    v.finish()?;
    let hash = if password_given {
        Some(
            password::hash(input.password.clone())
                .await
                .map_err(|e| Error::Db(sea_orm::DbErr::Custom(e.to_string())))?,
        )
    } else {
        None
    };
    let (Some(display_name), Some(role), Some(unit_id)) = (display_name, role, input.unit_id)
    else {
        return Err(Error::NotFound);
    };
    let tx = begin_write(db).await?;
    let saved = match id {
        None => {
            if user::Entity::find()
                .filter(user::Column::Username.eq(username.as_str()))
                .one(&tx)
                .await?
                .is_some()
            {
                return Err(Validation::one("username", "err.user.duplicate").into());
            }
            user::ActiveModel {
                username: Set(username),
                password_hash: Set(hash.unwrap_or_default()),
                display_name: Set(display_name),
                role: Set(role.as_str().to_owned()),
                unit_id: Set(unit_id),
                active: Set(true),
                email: Set(email),
                created_at: Set(Utc::now()),
                ..Default::default()
            }
            .insert(&tx)
            .await
            .map_err(|e| unique_as_invalid(e, "username", "err.user.duplicate"))?
        }
        Some(existing) => {
            let old = user::Entity::find_by_id(existing)
                .one(&tx)
                .await?
                .ok_or(Error::NotFound)?;
            if scope.is_some_and(|s| !tree.is_within(old.unit_id, s)) {
                return Err(Error::NotFound);
            }
            let mut am: user::ActiveModel = old.into();
            am.display_name = Set(display_name);
            am.role = Set(role.as_str().to_owned());
            am.unit_id = Set(unit_id);
            am.active = Set(input
                .active
                .as_deref()
                .is_some_and(|a| a == "on" || a == "true"));
            am.email = Set(email);
            if let Some(h) = hash {
                am.password_hash = Set(h);
            }
            am.update(&tx).await?
        }
    };
    if id.is_some() && (!saved.active || password_given) {
        super::sessions::delete_for_user(&tx, saved.id).await?;
    }
    tx.commit().await?;
    saved.try_into()
}

/// Checks a username and password; `None` for an unknown or disabled user or
/// a wrong password (all take the same time).
pub async fn authenticate(
    db: &impl ConnectionTrait,
    username: &str,
    password_attempt: &str,
) -> Result<Option<User>> {
    let found = user::Entity::find()
        .filter(user::Column::Username.eq(username.trim()))
        .one(db)
        .await?;
    let stored = found
        .as_ref()
        .filter(|u| u.active)
        .map(|u| u.password_hash.clone());
    if password::verify(password_attempt.to_owned(), stored).await {
        found.map(User::try_from).transpose()
    } else {
        Ok(None)
    }
}
