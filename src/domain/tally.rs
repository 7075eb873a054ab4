//! Tallies: received = done + in progress + deferred, for any set of
//! requests, computed from statuses (never typed in).

use super::request::Status;

/// The published counts.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
pub struct Tally {
    /// 收到诉求.
    pub received: u64,
    /// 已办结.
    pub done: u64,
    /// Of which 当场解决.
    pub on_the_spot: u64,
    /// 正在办理 (received and in progress).
    pub in_progress: u64,
    /// 暂不能办.
    pub deferred: u64,
}

impl Tally {
    /// Counts one request by its status.
    pub fn add(&mut self, status: Status, on_the_spot: bool) {
        self.received += 1;
        match status.board_bucket() {
            Status::Done => {
                self.done += 1;
                if on_the_spot {
                    self.on_the_spot += 1;
                }
            }
            Status::Deferred => self.deferred += 1,
            _ => self.in_progress += 1,
        }
    }

    /// Tallies `(status, on_the_spot)` pairs.
    pub fn of(items: impl IntoIterator<Item = (Status, bool)>) -> Tally {
        let mut t = Tally::default();
        for (s, spot) in items {
            t.add(s, spot);
        }
        t
    }

    /// Adds another tally (a township rolls up its villages).
    pub fn plus(self, o: Tally) -> Tally {
        Tally {
            received: self.received + o.received,
            done: self.done + o.done,
            on_the_spot: self.on_the_spot + o.on_the_spot,
            in_progress: self.in_progress + o.in_progress,
            deferred: self.deferred + o.deferred,
        }
    }

    /// The identity the practice publishes: received = done + in progress + deferred,
    /// and on-the-spot is part of done.
    pub fn adds_up(&self) -> bool {
        self.received == self.done + self.in_progress + self.deferred
            && self.on_the_spot <= self.done
    }
}

/// Percentage with one decimal, `None` when there is nothing to divide by
/// or fewer than `min` cases (no tiny samples).
pub fn rate(numerator: u64, denominator: u64, min: u64) -> Option<f64> {
    (denominator > 0 && denominator >= min)
        .then(|| (numerator as f64 * 1000.0 / denominator as f64).round() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_example_adds_up() {
        let mut items = Vec::new();
        items.extend(std::iter::repeat_n((Status::Done, false), 281));
        items.extend(std::iter::repeat_n((Status::InProgress, false), 100));
        items.extend(std::iter::repeat_n((Status::Received, false), 42));
        items.extend(std::iter::repeat_n((Status::Deferred, false), 15));
        let t = Tally::of(items);
        assert_eq!(
            (t.received, t.done, t.in_progress, t.deferred),
            (438, 281, 142, 15)
        );
        assert!(t.adds_up());
        assert!(
            !Tally {
                received: 3,
                done: 1,
                ..Default::default()
            }
            .adds_up()
        );
    }

    #[test]
    fn on_the_spot_counts_only_for_done_and_rates_need_samples() {
        let t = Tally::of([
            (Status::Done, true),
            (Status::InProgress, true),
            (Status::Done, false),
        ]);
        assert_eq!((t.done, t.on_the_spot), (2, 1));
        assert_eq!(rate(9, 10, 10), Some(90.0));
        assert_eq!(rate(2, 3, 10), None);
        assert_eq!(rate(1, 3, 1), Some(33.3));
        assert_eq!(rate(0, 0, 0), None);
        assert_eq!(
            Tally::of([(Status::Done, false)])
                .plus(Tally::of([(Status::Deferred, false)]))
                .received,
            2
        );
    }
}
