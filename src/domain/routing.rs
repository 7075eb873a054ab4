//! Routing by jurisdiction: walk the place up, and at each place the category
//! up; the first rule found wins. No rule: the township dispatcher's queue.

use std::collections::HashMap;

/// A routing rule as the resolver needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Rule id.
    pub id: i32,
    /// Category the rule covers (and, by fallback, its children).
    pub category_id: i32,
    /// Place the rule covers (and everything below it).
    pub area_unit_id: i32,
    /// Unit that handles matching requests.
    pub handler_unit_id: i32,
    /// Overrides the category's time limit when set.
    pub time_limit_days: Option<i32>,
}

/// The outcome of routing one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// A rule matched.
    Rule {
        /// The matching rule.
        rule_id: i32,
        /// Unit the request goes to.
        handler_unit_id: i32,
        /// Category the rule was written for (the request's or its parent).
        matched_category_id: i32,
        /// Place the rule was written for (the village or an ancestor).
        matched_area_unit_id: i32,
        /// Time limit from the rule, else from the request's category.
        time_limit_days: i32,
    },
    /// No rule: the request waits in this township's dispatcher queue.
    Queue {
        /// The township whose dispatcher gets it (`None` if the village has none).
        township_id: Option<i32>,
        /// The request's category's own time limit.
        time_limit_days: i32,
    },
}

impl Route {
    /// The matching rule, if any.
    pub fn rule_id(&self) -> Option<i32> {
        match self {
            Route::Rule { rule_id, .. } => Some(*rule_id),
            Route::Queue { .. } => None,
        }
    }

    /// Working days allowed: the rule's, else the category's.
    pub fn time_limit_days(&self) -> i32 {
        match self {
            Route::Rule {
                time_limit_days, ..
            }
            | Route::Queue {
                time_limit_days, ..
            } => *time_limit_days,
        }
    }

    /// The unit that acts on the request next: the handler, or the township queue.
    pub fn target_unit(&self) -> Option<i32> {
        match self {
            Route::Rule {
                handler_unit_id, ..
            } => Some(*handler_unit_id),
            Route::Queue { township_id, .. } => *township_id,
        }
    }
}

/// Resolves a route.
///
/// `place_chain`: the village then its ancestors; `category_chain`: the
/// category then its parent; `category_time_limit`: the request category's
/// own limit; `township_id`: the township of the village, for the queue.
pub fn resolve(
    place_chain: &[i32],
    category_chain: &[i32],
    category_time_limit: i32,
    township_id: Option<i32>,
    rules: &[Rule],
) -> Route {
    let index: HashMap<(i32, i32), &Rule> = rules
        .iter()
        .map(|r| ((r.area_unit_id, r.category_id), r))
        .collect();
    for place in place_chain {
        for cat in category_chain {
            if let Some(r) = index.get(&(*place, *cat)) {
                return Route::Rule {
                    rule_id: r.id,
                    handler_unit_id: r.handler_unit_id,
                    matched_category_id: r.category_id,
                    matched_area_unit_id: r.area_unit_id,
                    time_limit_days: r.time_limit_days.unwrap_or(category_time_limit),
                };
            }
        }
    }
    Route::Queue {
        township_id,
        time_limit_days: category_time_limit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Places: 1 county › 2 township › 3 village, 4 village.
    // Categories: 10 道路交通 › 11 路灯, 12 道路破损; 20 环境卫生 › 21 垃圾.
    // Offices: 100 城建办, 101 区路政, 102 村委.
    fn rules() -> Vec<Rule> {
        let r = |id, category_id, area_unit_id, handler_unit_id, time_limit_days| Rule {
            id,
            category_id,
            area_unit_id,
            handler_unit_id,
            time_limit_days,
        };
        vec![
            r(1, 10, 2, 100, None),    // 道路交通 @ township → 城建办
            r(2, 11, 3, 102, Some(2)), // 路灯 @ village 3 → 村委, 2 days
            r(3, 10, 1, 101, None),    // 道路交通 @ county → 区路政
            r(4, 11, 1, 101, Some(9)), // 路灯 @ county → 区路政
        ]
    }

    fn route(place: &[i32], cats: &[i32]) -> Route {
        resolve(place, cats, 5, Some(2), &rules())
    }

    #[test]
    fn routing_table() {
        struct Case {
            name: &'static str,
            place: &'static [i32],
            cats: &'static [i32],
            rule: Option<i32>,
            handler: Option<i32>,
            limit: i32,
        }
        let cases = [
            Case {
                name: "exact category at the village wins over everything",
                place: &[3, 2, 1],
                cats: &[11, 10],
                rule: Some(2),
                handler: Some(102),
                limit: 2,
            },
            Case {
                name: "other village: township rule for the parent category beats county rule for the child",
                place: &[4, 2, 1],
                cats: &[11, 10],
                rule: Some(1),
                handler: Some(100),
                limit: 5,
            },
            Case {
                name: "child category without its own rule falls back to the parent",
                place: &[3, 2, 1],
                cats: &[12, 10],
                rule: Some(1),
                handler: Some(100),
                limit: 5,
            },
            Case {
                name: "only the county has a rule",
                place: &[1],
                cats: &[11, 10],
                rule: Some(4),
                handler: Some(101),
                limit: 9,
            },
            Case {
                name: "no rule at any level goes to the township queue",
                place: &[3, 2, 1],
                cats: &[21, 20],
                rule: None,
                handler: Some(2),
                limit: 5,
            },
        ];
        for c in cases {
            let r = route(c.place, c.cats);
            let rule = match &r {
                Route::Rule { rule_id, .. } => Some(*rule_id),
                Route::Queue { .. } => None,
            };
            let limit = match &r {
                Route::Rule {
                    time_limit_days, ..
                }
                | Route::Queue {
                    time_limit_days, ..
                } => *time_limit_days,
            };
            assert_eq!(rule, c.rule, "{}", c.name);
            assert_eq!(r.target_unit(), c.handler, "{}", c.name);
            assert_eq!(limit, c.limit, "{}", c.name);
        }
    }

    #[test]
    fn no_rules_at_all_queues_at_the_township() {
        let r = resolve(&[3, 2, 1], &[11, 10], 3, Some(2), &[]);
        assert_eq!(
            r,
            Route::Queue {
                township_id: Some(2),
                time_limit_days: 3
            }
        );
    }
}
