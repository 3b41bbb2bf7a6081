//! When a failed delivery is tried again: a growing delay after each
//! failed try (30 s, 2 min, 10 min, 30 min, 1 h, 3 h, then every 6 h),
//! each lengthened by up to a tenth so receivers that failed together are
//! not all retried at once, until a day after the first try; then the
//! delivery is given up. A scale below 1 shrinks every delay and the day
//! alike (a testing knob, `--webhook-retry-scale`). A leaf.

use sha2::{Digest, Sha256};
use std::time::Duration;

/// The delay after the 1st, 2nd, … failed try; the last repeats.
pub const RETRY_DELAYS: [Duration; 7] = [
    Duration::from_secs(30),
    Duration::from_secs(2 * 60),
    Duration::from_secs(10 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(60 * 60),
    Duration::from_secs(3 * 60 * 60),
    Duration::from_secs(6 * 60 * 60),
];

/// How long after its first try a delivery is still retried.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// The delay after the `failed`-th failed try (1 for the first), before
/// jitter and scale.
pub fn retry_delay(failed: u32) -> Duration {
    let index = usize::try_from(failed.saturating_sub(1)).unwrap_or(usize::MAX);
    RETRY_DELAYS[index.min(RETRY_DELAYS.len() - 1)]
}

/// The retry schedule of this node.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Schedule {
    /// Multiplies every delay and the one-day window: 1 in production.
    pub scale: f64,
}

impl Default for Schedule {
    fn default() -> Self {
        Self { scale: 1.0 }
    }
}

impl Schedule {
    /// When delivery `delivery` is tried next after its `failed`-th failed
    /// try at `now` (unix ms), its first try having been at
    /// `first_try_at`; `None`: it is given up (the next try would fall
    /// more than a day after the first). The jitter (0 to 10% of the
    /// delay) is drawn from the delivery's id and the try, so it is the
    /// same on every node and in every run.
    pub fn next_try(
        &self,
        delivery: &str,
        failed: u32,
        first_try_at: i64,
        now: i64,
    ) -> Option<i64> {
        let delay = self.scaled_ms(retry_delay(failed));
        let jitter = delay.saturating_mul(i64::from(spread(delivery, failed))) / 10_000;
        let next = now.saturating_add(delay).saturating_add(jitter);
        let last = first_try_at.saturating_add(self.scaled_ms(GIVE_UP_AFTER));
        (next <= last).then_some(next)
    }

    fn scaled_ms(&self, duration: Duration) -> i64 {
        let ms = duration.as_millis() as f64 * self.scale;
        // At least 1 ms, so a tiny scale still moves time forward.
        (ms.round() as i64).max(1)
    }
}

/// 0 to 1,000 (ten-thousandths of the delay), from the delivery and try.
fn spread(delivery: &str, failed: u32) -> u16 {
    let hash = Sha256::new()
        .chain_update(delivery.as_bytes())
        .chain_update(failed.to_le_bytes())
        .finalize();
    u16::from_le_bytes([hash[0], hash[1]]) % 1001
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000;
    const HOUR: i64 = 60 * MINUTE;

    #[test]
    fn delays_grow_then_repeat_every_six_hours() {
        let secs: Vec<u64> = (1..=9).map(|n| retry_delay(n).as_secs()).collect();
        assert_eq!(secs, [30, 120, 600, 1800, 3600, 10800, 21600, 21600, 21600]);
        assert_eq!(retry_delay(0).as_secs(), 30);
        assert_eq!(retry_delay(u32::MAX).as_secs(), 21600);
    }

    #[test]
    fn the_first_retry_is_within_a_minute_and_jitter_stays_within_a_tenth() {
        let schedule = Schedule::default();
        for id in ["a", "b", "c", "0123456789abcdef"] {
            for failed in 1..=8 {
                let next = schedule.next_try(id, failed, 0, 0).expect("within the day");
                let base = retry_delay(failed).as_millis() as i64;
                assert!(
                    (base..=base + base / 10).contains(&next),
                    "{id} {failed}: {next}"
                );
                assert_eq!(
                    schedule.next_try(id, failed, 0, 0),
                    Some(next),
                    "the same every time"
                );
            }
            assert!(schedule.next_try(id, 1, 0, 0).unwrap() < MINUTE);
        }
    }

    #[test]
    fn a_delivery_is_given_up_a_day_after_its_first_try() {
        let schedule = Schedule::default();
        // Tried on schedule, each try taking no time: the tries until the
        // next one would fall past the day.
        let (mut now, mut tries) = (0i64, 1u32);
        while let Some(next) = schedule.next_try("d", tries, 0, now) {
            now = next;
            tries += 1;
        }
        assert!(now <= 24 * HOUR);
        assert!(now > 18 * HOUR, "the last try is late in the day: {now}");
        // Ten on the bare schedule (the tenth at 22 h 42 min 30 s); the
        // jitter may push the tenth past the day.
        assert!((9..=10).contains(&tries), "{tries} tries");
        assert_eq!(schedule.next_try("d", 3, 0, 24 * HOUR), None);
    }

    #[test]
    fn a_scale_shrinks_delays_and_the_day_alike() {
        let fast = Schedule { scale: 0.001 };
        let next = fast.next_try("d", 1, 0, 0).unwrap();
        assert!((30..=33).contains(&next), "{next}");
        assert_eq!(fast.next_try("d", 1, 0, 86_400), None);
        assert!(fast.next_try("d", 1, 0, 86_000).is_some());
    }
}
