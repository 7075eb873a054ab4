//! Categories: the two-level tree with time limits and bring notes.

use super::entities::category;
use super::{Error, Result, begin_write, unique_as_invalid};
use crate::domain::category::CategoryInput;
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder,
};

/// A category.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Category {
    /// Id.
    pub id: i32,
    /// Name, e.g. 路灯.
    pub name: String,
    /// Parent (top-level) category.
    pub parent_id: Option<i32>,
    /// Working days to handle; 0 = on the spot.
    pub time_limit_days: i32,
    /// What the resident must bring.
    pub bring_note: Option<String>,
}

impl From<category::Model> for Category {
    fn from(m: category::Model) -> Self {
        Category {
            id: m.id,
            name: m.name,
            parent_id: m.parent_id,
            time_limit_days: m.time_limit_days,
            bring_note: m.bring_note,
        }
    }
}

/// Every category, parents before children, in display order.
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<Category>> {
    Ok(category::Entity::find()
        .order_by_asc(category::Column::Position)
        .order_by_asc(category::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(Category::from)
        .collect())
}

/// One category.
pub async fn get(db: &impl ConnectionTrait, id: i32) -> Result<Category> {
    category::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(Category::from)
        .ok_or(Error::NotFound)
}

/// The category then its parent (the routing fallback order).
pub async fn chain(db: &impl ConnectionTrait, id: i32) -> Result<Vec<Category>> {
    let c = get(db, id).await?;
    let mut out = vec![c.clone()];
    if let Some(p) = c.parent_id {
        out.push(get(db, p).await?);
    }
    Ok(out)
}

/// Raw input for a category, as posted.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct RawCategory {
    #[schema(required = true)]
    /// Name.
    pub name: String,
    /// Parent id.
    pub parent_id: Option<i32>,
    /// Time limit in working days.
    pub time_limit_days: Option<i64>,
    /// Bring note.
    pub bring_note: Option<String>,
}

/// Validates and saves a category (new when `id` is `None`).
pub async fn save(db: &DatabaseConnection, id: Option<i32>, raw: &RawCategory) -> Result<Category> {
    let tx = begin_write(db).await?;
    super::lock_setup(&tx).await?;
    let cats = all(&tx).await?;
    if let Some(existing) = id
        && !cats.iter().any(|c| c.id == existing)
    {
        return Err(Error::NotFound);
    }
    let has_children = id.is_some_and(|i| cats.iter().any(|c| c.parent_id == Some(i)));
    let mut input = CategoryInput::parse(
        &raw.name,
        raw.parent_id,
        raw.time_limit_days,
        raw.bring_note.as_deref(),
        |p| {
            cats.iter()
                .find(|c| c.id == p)
                .map(|c| c.parent_id.is_none() && Some(c.id) != id && !has_children)
        },
    )?;
    let clash = cats
        .iter()
        .any(|c| c.name == input.name && c.parent_id == input.parent_id && Some(c.id) != id);
    if clash {
        return Err(crate::domain::Validation::one("name", "err.category.duplicate").into());
    }
    let bring_note = input.bring_note.take();
    let saved = match id {
        None => {
            category::ActiveModel {
                name: Set(input.name),
                parent_id: Set(input.parent_id),
                time_limit_days: Set(input.time_limit_days),
                bring_note: Set(bring_note),
                position: Set(i32::try_from(cats.len()).unwrap_or(i32::MAX)),
                created_at: Set(Utc::now()),
                ..Default::default()
            }
            .insert(&tx)
            .await
        }
        Some(existing) => {
            category::ActiveModel {
                id: Set(existing),
                name: Set(input.name),
                parent_id: Set(input.parent_id),
                time_limit_days: Set(input.time_limit_days),
                bring_note: Set(bring_note),
                ..Default::default()
            }
            .update(&tx)
            .await
        }
    }
    .map_err(|e| unique_as_invalid(e, "name", "err.category.duplicate"))?;
    tx.commit().await?;
    Ok(saved.into())
}

/// Top-level categories with their children, for pickers and the admin page.
pub fn grouped(cats: &[Category]) -> Vec<(Category, Vec<Category>)> {
    cats.iter()
        .filter(|c| c.parent_id.is_none())
        .map(|top| {
            let kids = cats
                .iter()
                .filter(|c| c.parent_id == Some(top.id))
                .cloned()
                .collect();
            (top.clone(), kids)
        })
        .collect()
}

/// Whether a category of this name exists under `parent` (used by the demo loader).
pub async fn find_by_name(
    db: &impl ConnectionTrait,
    name: &str,
    parent: Option<i32>,
) -> Result<Option<Category>> {
    Ok(category::Entity::find()
        .filter(category::Column::Name.eq(name))
        .filter(match parent {
            Some(p) => category::Column::ParentId.eq(p),
            None => category::Column::ParentId.is_null(),
        })
        .one(db)
        .await?
        .map(Category::from))
}

/// "道路交通 › 路灯" for a child, the name for a top-level category.
pub fn label(cats: &[Category], id: i32) -> String {
    let Some(c) = cats.iter().find(|c| c.id == id) else {
        return "?".into();
    };
    match c.parent_id.and_then(|p| cats.iter().find(|x| x.id == p)) {
        Some(p) => format!("{} › {}", p.name, c.name),
        None => c.name.clone(),
    }
}

/// The category and, for a top-level one, its children (for filters).
pub fn with_children(cats: &[Category], id: i32) -> Vec<i32> {
    let mut ids = vec![id];
    ids.extend(
        cats.iter()
            .filter(|c| c.parent_id == Some(id))
            .map(|c| c.id),
    );
    ids
}
