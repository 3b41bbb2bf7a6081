//! Membership dues: members kept in storage, payments recorded against
//! them, and the list of who is overdue at a given month.
//!
//! Operations:
//! - `add-member` `{"id", "name", "monthly_dues"?, "joined"}`: `joined` is a
//!   month `YYYY-MM`; `monthly_dues` defaults to the `default_monthly_dues`
//!   setting.
//! - `record-payment` `{"member_id", "amount"}`.
//! - `get-member` `{"id"}`.
//! - `list-overdue` `{"as_of": "YYYY-MM"}`: members who owe money for the
//!   months from `joined` to `as_of` inclusive, with what they owe.
//!
//! Event `member.joined` with the same payload as `add-member` (without
//! `joined`, taken from the event's `month`) adds the member.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use spleis_sdk::{Error, Event, Plugin, Request, Response, config, log, storage};

struct MembershipDues;

#[derive(Serialize, Deserialize, Clone)]
struct Member {
    id: String,
    name: String,
    #[serde(with = "rust_decimal::serde::str")]
    monthly_dues: Decimal,
    joined: Month,
    #[serde(with = "rust_decimal::serde::str")]
    total_paid: Decimal,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewMember {
    id: String,
    name: String,
    #[serde(default, with = "rust_decimal::serde::str_option")]
    monthly_dues: Option<Decimal>,
    joined: Month,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Payment {
    member_id: String,
    #[serde(with = "rust_decimal::serde::str")]
    amount: Decimal,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ById {
    id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AsOf {
    as_of: Month,
}

#[derive(Serialize)]
struct Overdue {
    id: String,
    name: String,
    months_due: u32,
    owed: String,
}

/// A calendar month, `YYYY-MM` on the wire.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
struct Month {
    year: u32,
    month: u32,
}

impl Month {
    fn parse(text: &str) -> Result<Self, String> {
        let (y, m) = text
            .split_once('-')
            .ok_or_else(|| format!("`{text}` is not a month of the form YYYY-MM"))?;
        let year: u32 = y.parse().map_err(|_| format!("`{text}`: bad year"))?;
        let month: u32 = m.parse().map_err(|_| format!("`{text}`: bad month"))?;
        if y.len() != 4 || m.len() != 2 || !(1..=12).contains(&month) {
            return Err(format!("`{text}` is not a month of the form YYYY-MM"));
        }
        Ok(Self { year, month })
    }

    fn index(self) -> u32 {
        self.year * 12 + (self.month - 1)
    }
}

impl Serialize for Month {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{:04}-{:02}", self.year, self.month))
    }
}

impl<'de> Deserialize<'de> for Month {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Month::parse(&text).map_err(serde::de::Error::custom)
    }
}

fn key(id: &str) -> String {
    format!("member/{id}")
}

fn load(id: &str) -> Result<Member, Error> {
    storage::get_json(&key(id))?.ok_or_else(|| Error::not_found(format!("no member `{id}`")))
}

fn add(new: NewMember) -> Result<Member, Error> {
    if new.id.is_empty() || new.id.len() > 200 || new.id.contains('/') {
        return Err(Error::invalid_input(
            "`id` must be 1 to 200 characters without `/`",
        ));
    }
    if storage::get(&key(&new.id))?.is_some() {
        return Err(Error::new(
            "conflict",
            format!("member `{}` already exists", new.id),
        ));
    }
    let monthly_dues = match new.monthly_dues {
        Some(dues) => dues,
        None => config::parse::<Decimal>("default_monthly_dues")?.ok_or_else(|| {
            Error::invalid_input(
                "`monthly_dues` is missing and no `default_monthly_dues` is configured",
            )
        })?,
    };
    if monthly_dues.is_sign_negative() {
        return Err(Error::invalid_input("`monthly_dues` must not be negative"));
    }
    let member = Member {
        id: new.id,
        name: new.name,
        monthly_dues,
        joined: new.joined,
        total_paid: Decimal::ZERO,
    };
    storage::set_json(&key(&member.id), &member)?;
    log::info(&format!("member {} added", member.id));
    Ok(member)
}

fn pay(payment: Payment) -> Result<Member, Error> {
    if payment.amount <= Decimal::ZERO {
        return Err(Error::invalid_input("`amount` must be positive"));
    }
    let mut member = load(&payment.member_id)?;
    member.total_paid += payment.amount;
    storage::set_json(&key(&member.id), &member)?;
    Ok(member)
}

fn overdue(as_of: Month) -> Result<Vec<Overdue>, Error> {
    let mut result = Vec::new();
    for k in storage::list_keys("member/")? {
        let Some(member) = storage::get_json::<Member>(&k)? else {
            continue;
        };
        if member.joined > as_of {
            continue;
        }
        let months_due = as_of.index() - member.joined.index() + 1;
        let owed = member.monthly_dues * Decimal::from(months_due) - member.total_paid;
        if owed > Decimal::ZERO {
            result.push(Overdue {
                id: member.id,
                name: member.name,
                months_due,
                owed: format!("{:.2}", owed),
            });
        }
    }
    Ok(result)
}

#[derive(Deserialize)]
struct Joined {
    id: String,
    name: String,
    #[serde(default, with = "rust_decimal::serde::str_option")]
    monthly_dues: Option<Decimal>,
    month: Month,
}

impl Plugin for MembershipDues {
    fn handle(request: Request) -> Result<Response, Error> {
        match request.operation() {
            "add-member" => Response::json(&add(request.json()?)?),
            "record-payment" => Response::json(&pay(request.json()?)?),
            "get-member" => Response::json(&load(&request.json::<ById>()?.id)?),
            "list-overdue" => Response::json(&overdue(request.json::<AsOf>()?.as_of)?),
            other => Err(Error::unknown_operation(other)),
        }
    }

    fn on_event(event: Event) -> Result<(), Error> {
        if event.topic() != "member.joined" {
            return Ok(());
        }
        let joined: Joined = event.json()?;
        add(NewMember {
            id: joined.id,
            name: joined.name,
            monthly_dues: joined.monthly_dues,
            joined: joined.month,
        })?;
        Ok(())
    }
}

spleis_sdk::export_plugin!(MembershipDues);
