"""The JSON shape of the export."""

from pydantic import BaseModel, ConfigDict


class CustomerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    country: str


class OrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    cents: int
    customer: CustomerOut
