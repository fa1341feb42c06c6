"""Request bodies of the forecast routes: drivers, driver-based lines and overrides."""

from pydantic import BaseModel, ConfigDict, Field

from ipm_common.money import Money
from ipm_forecast.entrypoints.schemas import CostCentre, Identifier, Text128
from ipm_forecast.service_layer.overrides import OverrideRequest, TopDownRequest

MONTH_VALUES = "value per calendar month, e.g. {\"2024-03\": \"312.23\"}; a month left out stays unknown"


class DriverValuesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text128 | None = Field(None, description="display name, such as the FRED series title")
    values: dict[str, Money] = Field(min_length=1, description=MONTH_VALUES)


class ScenarioIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    values: dict[str, Money] = Field(min_length=1, description=MONTH_VALUES)


class DriverLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    driver_id: str = Identifier
    scenario: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$",
                                 description="a named scenario of the driver; leave it out for the driver's "
                                             "published values and its own forecast")
    cost_centre: str | None = CostCentre
    configured_by: Text128


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entity_id: str = Identifier
    account_id: str = Identifier
    cost_centre: str | None = CostCentre
    period: str = Field(min_length=7, max_length=10, description="a forecast period, FY2024-P07 or 2024-01")
    value: Money = Field(description="the value that replaces the computed forecast, e.g. \"125000.00\"")
    author: Text128
    reason: str = Field(min_length=1, max_length=1000, description="why the computed value is replaced")

    def to_request(self) -> OverrideRequest:
        return OverrideRequest(self.entity_id, self.account_id, self.cost_centre or "", self.period, self.value,
                               self.author, self.reason)


class TopDownIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entity_id: str = Identifier
    hierarchy: str = Identifier
    node: str = Identifier
    cost_centre: str | None = CostCentre
    period: str = Field(min_length=7, max_length=10, description="a forecast period, FY2024-P07 or 2024-01")
    value: Money = Field(description="the node's value in cents, allocated to its leaves, e.g. \"900000.00\"")
    author: Text128
    reason: str = Field(min_length=1, max_length=1000)

    def to_request(self) -> TopDownRequest:
        return TopDownRequest(self.entity_id, self.hierarchy, self.node, self.cost_centre or "", self.period,
                              self.value, self.author, self.reason)
