"""The forecast service's event subscriptions: one handler table per consumer group."""

import json
import logging
from decimal import Decimal

from pydantic import ValidationError

from ipm_common.dispatch import BatchEventDispatcher, EventDispatcher
from ipm_common.envelope import MAX_EVENT_BYTES, Envelope
from ipm_common.errors import InvalidInput, PeriodClosed, PoisonMessage
from ipm_common.events import ActualsPosted
from ipm_common.messaging import ConsumedMessage
from ipm_common.storage import Database, Transaction
from ipm_forecast.adapters import repository
from ipm_forecast.entrypoints.budget_schemas import BalanceBatchIn
from ipm_forecast.entrypoints.schemas import PostingBatchIn
from ipm_forecast.service_layer.accuracy import new_actuals, score_new_actuals
from ipm_forecast.service_layer.balances import ingest_balances
from ipm_forecast.service_layer.benefits import replace_planned_benefits, store_realised_benefits
from ipm_forecast.service_layer.ingestion import ingest_batch
from ipm_forecast.service_layer.rerolling import RerollRequest, reroll_batch, reroll_series
from ipm_forecast.settings import ForecastSettings

logger = logging.getLogger(__name__)


class Handlers:
    def __init__(self, database: Database, settings: ForecastSettings) -> None:
        self._database = database
        self._settings = settings
        store = repository.reference
        self.reference = EventDispatcher("forecast.reference", database, {
            "ipm.strategy.entity.registered": store.on_entity_registered,
            "ipm.strategy.account.defined": store.on_account_defined,
            "ipm.strategy.hierarchy.changed": store.on_hierarchy_changed,
            "ipm.projects.benefits.planned": self._on_benefits_planned,
            "ipm.projects.benefits.changed": self._on_benefits_planned,
            "ipm.projects.benefits.realised": store_realised_benefits,
        })
        self.reroll = EventDispatcher("forecast.reroll", database, {
            "ipm.forecast.actuals.posted": self._on_actuals_posted,
        })
        # The same consumer name as above: an event applied by either path is not applied again.
        self.reroll_batch = BatchEventDispatcher("forecast.reroll", database, {
            "ipm.forecast.actuals.posted": self._on_many_actuals_posted,
        })

    async def _on_actuals_posted(self, transaction: Transaction, envelope: Envelope, data: ActualsPosted) -> None:
        await score_new_actuals(transaction, new_actuals([(envelope, data)]))
        await reroll_series(transaction, envelope, entity_id=data.entity_id, account_id=data.account_id,
                            cost_centre=data.cost_centre or "", horizon=self._settings.horizon,
                            batch_id=data.batch_id, batch_series_count=data.batch_series_count)

    async def _on_many_actuals_posted(self, transaction: Transaction,
                                      items: list[tuple[Envelope, ActualsPosted]]) -> None:
        await score_new_actuals(transaction, new_actuals(items))
        requests = [RerollRequest.for_actuals(envelope, data) for envelope, data in items]
        await reroll_batch(transaction, requests, horizon=self._settings.horizon)

    async def _on_benefits_planned(self, transaction: Transaction, envelope: Envelope, data: object) -> None:
        await replace_planned_benefits(transaction, envelope, data, horizon=self._settings.horizon)  # type: ignore[arg-type]

    async def erp_postings(self, message: ConsumedMessage) -> None:
        """Ingest one ERP message: a JSON batch in the body format of ``POST /v1/actuals`` or ``POST /v1/balances``.

        A message with ``lines`` and without ``postings`` is a batch of period balances.
        """
        batch = _parse_erp_batch(message)
        try:
            if isinstance(batch, BalanceBatchIn):
                await ingest_balances(self._database, batch.to_lines(), batch_id=batch.batch_id,
                                      entity_id=batch.entity_id, channel="kafka")
                return
            batch_id = batch.batch_id or f"erp-{message.topic}-{message.partition}-{message.offset}"
            await ingest_batch(self._database, batch.to_requests(), batch_id=batch_id, channel="kafka",
                               base_currency=self._settings.fx_base_currency)
        except PeriodClosed as error:
            raise PoisonMessage(str(error), reason="period_closed") from None
        except InvalidInput as error:
            raise PoisonMessage(str(error), reason="invalid_payload") from None


def _parse_erp_batch(message: ConsumedMessage) -> PostingBatchIn | BalanceBatchIn:
    if message.value is None:
        raise PoisonMessage("ERP message has no value", reason="empty")
    if len(message.value) > MAX_EVENT_BYTES:
        raise PoisonMessage(f"ERP message of {len(message.value)} bytes exceeds {MAX_EVENT_BYTES}; split the batch",
                            reason="too_large")
    try:
        document = json.loads(message.value.decode("utf-8"), parse_float=Decimal, parse_constant=_reject_constant)
    except UnicodeDecodeError as error:
        raise PoisonMessage(f"ERP message is not UTF-8: {error}", reason="not_utf8") from None
    except ValueError as error:
        raise PoisonMessage(f"ERP message is not JSON: {error}", reason="not_json") from None
    try:
        if isinstance(document, dict) and "lines" in document and "postings" not in document:
            return BalanceBatchIn.model_validate(document)
        return PostingBatchIn.model_validate(document)
    except ValidationError as error:
        raise PoisonMessage(f"ERP batch is invalid: {error}", reason="invalid_payload") from None


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a finite number")
