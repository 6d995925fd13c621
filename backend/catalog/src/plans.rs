//! Pricing plans of a stream. Amounts are integer minor units of the plan's currency.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use sqlx::PgConnection;
use tributary_identity::Actor;
use uuid::Uuid;

use crate::{Catalog, CatalogError, streams::can_manage};

/// Currencies plans may be priced in (what the billing side settles through Stripe).
pub const CURRENCIES: &[&str] = &["usd", "eur", "gbp", "chf"];

/// Largest amount accepted in minor units (10 billion in major units).
const MAX_MINOR: i64 = 1_000_000_000_000;

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Plan {
    pub id: Uuid,
    pub stream_id: Uuid,
    pub name: String,
    /// `free`, `flat` (a fee per month) or `usage` (a price per million units).
    pub pricing_model: String,
    pub currency: String,
    pub flat_fee_minor: i64,
    pub unit_price_minor: i64,
    pub usage_metric: String,
    pub included_units: i64,
    pub trial_days: i32,
    pub approval_required: bool,
    pub throughput_quota: Option<i32>,
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct PlanInput {
    pub name: String,
    pub pricing_model: String,
    pub currency: String,
    pub flat_fee_minor: i64,
    pub unit_price_minor: i64,
    pub usage_metric: String,
    pub included_units: i64,
    pub trial_days: i32,
    pub approval_required: bool,
    pub throughput_quota: Option<i32>,
}

const PLAN_COLUMNS: &str = "id, stream_id, name, pricing_model, currency, flat_fee_minor, unit_price_minor, usage_metric, included_units, trial_days, approval_required, throughput_quota, archived_at, created_at";

fn validate(input: &PlanInput) -> Result<PlanInput, CatalogError> {
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(CatalogError::validation(
            "name",
            "must be 1 to 80 characters",
        ));
    }
    let model = input.pricing_model.trim().to_lowercase();
    let currency = input.currency.trim().to_lowercase();
    if !CURRENCIES.contains(&currency.as_str()) {
        return Err(CatalogError::validation(
            "currency",
            format!("must be one of: {}", CURRENCIES.join(", ")),
        ));
    }
    let metric = match input.usage_metric.trim() {
        "" => "messages".to_owned(),
        m => m.to_lowercase(),
    };
    if !matches!(metric.as_str(), "messages" | "bytes") {
        return Err(CatalogError::validation(
            "usageMetric",
            "must be messages or bytes",
        ));
    }
    for (field, value) in [
        ("flatFeeMinor", input.flat_fee_minor),
        ("unitPriceMinor", input.unit_price_minor),
        ("includedUnits", input.included_units),
    ] {
        if !(0..=MAX_MINOR).contains(&value) {
            return Err(CatalogError::validation(
                field,
                format!("must be between 0 and {MAX_MINOR}"),
            ));
        }
    }
    match model.as_str() {
        "free" if input.flat_fee_minor != 0 || input.unit_price_minor != 0 => {
            return Err(CatalogError::validation(
                "pricingModel",
                "a free plan has no fee and no unit price",
            ));
        }
        "flat" if input.flat_fee_minor == 0 => {
            return Err(CatalogError::validation(
                "flatFeeMinor",
                "a flat plan needs a monthly fee",
            ));
        }
        "usage" if input.unit_price_minor == 0 => {
            return Err(CatalogError::validation(
                "unitPriceMinor",
                "a usage plan needs a unit price",
            ));
        }
        "free" | "flat" | "usage" => {}
        _ => {
            return Err(CatalogError::validation(
                "pricingModel",
                "must be free, flat or usage",
            ));
        }
    }
    if !(0..=365).contains(&input.trial_days) {
        return Err(CatalogError::validation(
            "trialDays",
            "must be between 0 and 365",
        ));
    }
    if input
        .throughput_quota
        .is_some_and(|q| !(1..=10_000_000).contains(&q))
    {
        return Err(CatalogError::validation(
            "throughputQuota",
            "must be between 1 and 10 000 000 messages/s",
        ));
    }
    Ok(PlanInput {
        name: name.to_owned(),
        pricing_model: model,
        currency,
        usage_metric: metric,
        ..input.clone()
    })
}

impl Catalog {
    /// The live plans of a stream the caller may see.
    pub async fn plans(
        &self,
        actor: Option<&Actor>,
        stream_id: Uuid,
    ) -> Result<Vec<Plan>, CatalogError> {
        self.stream(actor, stream_id).await?;
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {PLAN_COLUMNS} from plans where stream_id = $1 and archived_at is null order by created_at"
        )))
        .bind(stream_id)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn refresh_pricing_models(
        &self,
        conn: &mut PgConnection,
        stream_id: Uuid,
    ) -> Result<(), CatalogError> {
        sqlx::query(
            "update streams set pricing_models = coalesce((select array_agg(distinct pricing_model order by pricing_model)
                                                             from plans where stream_id = $1 and archived_at is null), '{}'),
                    updated_at = now()
              where id = $1",
        )
        .bind(stream_id)
        .execute(conn)
        .await?;
        Ok(())
    }

    /// Adds a plan to a stream (owners and admins of the provider).
    pub async fn create_plan(
        &self,
        actor: &Actor,
        stream_id: Uuid,
        input: PlanInput,
    ) -> Result<Plan, CatalogError> {
        let input = validate(&input)?;
        let mut tx = self.pool.begin().await?;
        let stream = self
            .stream_for_change(&mut tx, actor, stream_id, can_manage)
            .await?;
        let count: i64 = sqlx::query_scalar(
            "select count(*) from plans where stream_id = $1 and archived_at is null",
        )
        .bind(stream_id)
        .fetch_one(&mut *tx)
        .await?;
        if count >= 10 {
            return Err(CatalogError::Conflict(
                "a stream has at most 10 live plans; archive one first".into(),
            ));
        }
        let plan: Plan = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "insert into plans (stream_id, name, pricing_model, currency, flat_fee_minor, unit_price_minor, usage_metric, included_units, trial_days, approval_required, throughput_quota)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) returning {PLAN_COLUMNS}"
        )))
        .bind(stream_id)
        .bind(&input.name)
        .bind(&input.pricing_model)
        .bind(&input.currency)
        .bind(input.flat_fee_minor)
        .bind(input.unit_price_minor)
        .bind(&input.usage_metric)
        .bind(input.included_units)
        .bind(input.trial_days)
        .bind(input.approval_required)
        .bind(input.throughput_quota)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(db) if db.constraint() == Some("plans_stream_name_key") => {
                CatalogError::Conflict(format!("the stream has a plan named `{}` already", input.name))
            }
            _ => CatalogError::Database(e),
        })?;
        self.refresh_pricing_models(&mut tx, stream_id).await?;
        self.record(
            &mut tx,
            actor,
            &stream,
            "plan.created",
            None,
            json!({ "plan": plan }),
        )
        .await?;
        self.commit(tx).await?;
        Ok(plan)
    }

    /// Archives a plan: no new subscriptions; existing ones keep it.
    pub async fn archive_plan(&self, actor: &Actor, plan_id: Uuid) -> Result<Plan, CatalogError> {
        let mut tx = self.pool.begin().await?;
        let stream_id: Option<Uuid> =
            sqlx::query_scalar("select stream_id from plans where id = $1")
                .bind(plan_id)
                .fetch_optional(&mut *tx)
                .await?;
        let stream = self
            .stream_for_change(
                &mut tx,
                actor,
                stream_id.ok_or(CatalogError::NotFound)?,
                can_manage,
            )
            .await?;
        let plan: Plan = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "update plans set archived_at = coalesce(archived_at, now()) where id = $1 returning {PLAN_COLUMNS}"
        )))
        .bind(plan_id)
        .fetch_one(&mut *tx)
        .await?;
        if stream.status != "draft" {
            let live: i64 = sqlx::query_scalar(
                "select count(*) from plans where stream_id = $1 and archived_at is null",
            )
            .bind(stream.id)
            .fetch_one(&mut *tx)
            .await?;
            if live == 0 {
                return Err(CatalogError::Conflict(
                    "a published stream keeps at least one plan; add another before archiving this one".into(),
                ));
            }
        }
        self.refresh_pricing_models(&mut tx, stream.id).await?;
        self.record(
            &mut tx,
            actor,
            &stream,
            "plan.archived",
            None,
            json!({ "planId": plan_id }),
        )
        .await?;
        self.commit(tx).await?;
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(model: &str, flat: i64, unit: i64) -> PlanInput {
        PlanInput {
            name: "Starter".into(),
            pricing_model: model.into(),
            currency: "USD".into(),
            flat_fee_minor: flat,
            unit_price_minor: unit,
            ..PlanInput::default()
        }
    }

    #[test]
    fn plan_models_need_their_prices() {
        assert!(validate(&plan("free", 0, 0)).is_ok());
        assert!(validate(&plan("free", 100, 0)).is_err());
        assert!(validate(&plan("flat", 0, 0)).is_err());
        assert!(validate(&plan("flat", 4900, 0)).is_ok());
        assert!(validate(&plan("usage", 0, 0)).is_err());
        assert!(validate(&plan("usage", 0, 25)).is_ok());
        assert!(validate(&plan("barter", 0, 0)).is_err());
        assert!(validate(&plan("flat", -1, 0)).is_err());
        assert!(
            validate(&PlanInput {
                currency: "xyz".into(),
                ..plan("free", 0, 0)
            })
            .is_err()
        );
        assert_eq!(
            validate(&plan("free", 0, 0))
                .map(|p| p.currency)
                .ok()
                .as_deref(),
            Some("usd")
        );
    }
}
