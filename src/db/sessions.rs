//! Login sessions and API tokens. Only the SHA-256 of a token is stored.

use super::entities::session;
use super::users::{self, User};
use super::{Error, Result, begin_write};
use chrono::{Duration, Utc};
use rand::RngCore;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};

/// Web session (cookie) or API bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// Browser session with a CSRF token.
    Web,
    /// `Authorization: Bearer` token.
    Api,
}

impl SessionKind {
    fn as_str(self) -> &'static str {
        match self {
            SessionKind::Web => "web",
            SessionKind::Api => "api",
        }
    }
}

/// A live session and its user.
#[derive(Debug, Clone)]
pub struct Session {
    /// The logged-in user.
    pub user: User,
    /// CSRF token for forms of this session.
    pub csrf_token: String,
}

/// A fresh random token (256 bits, URL-safe).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Creates a session; returns the token to hand to the client.
pub async fn create(
    db: &DatabaseConnection,
    user_id: i32,
    kind: SessionKind,
    ttl: Duration,
) -> Result<String> {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let token = random_token();
    let now = Utc::now();
    let tx = begin_write(db).await?;
    session::Entity::delete_many()
        .filter(session::Column::ExpiresAt.lt(now))
        .exec(&tx)
        .await?;
    session::ActiveModel {
        id: Set(digest(&token)),
        user_id: Set(user_id),
        kind: Set(kind.as_str().to_owned()),
        csrf_token: Set(random_token()),
        created_at: Set(now),
        expires_at: Set(now + ttl),
    }
    .insert(&tx)
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// The live session of `token` of the given kind, if any.
pub async fn lookup(
    db: &impl ConnectionTrait,
    token: &str,
    kind: SessionKind,
) -> Result<Option<Session>> {
    let Some(s) = session::Entity::find_by_id(digest(token))
        .filter(session::Column::Kind.eq(kind.as_str()))
        .filter(session::Column::ExpiresAt.gt(Utc::now()))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    match users::get(db, s.user_id).await {
        Ok(user) if user.active => Ok(Some(Session {
            user,
            csrf_token: s.csrf_token,
        })),
        Ok(_) | Err(Error::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Ends the session of `token`.
pub async fn delete(db: &DatabaseConnection, token: &str) -> Result<()> {
    let tx = begin_write(db).await?;
    session::Entity::delete_by_id(digest(token))
        .exec(&tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Ends every session of a user (disabled account).
pub async fn delete_for_user(db: &impl ConnectionTrait, user_id: i32) -> Result<()> {
    session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}
