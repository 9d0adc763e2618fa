"""A FastAPI app that computes sales reports in a background task."""

import asyncio

import httpx
from db import Session, engine
from fastapi import BackgroundTasks, FastAPI
from models import Base, Report, Sale
from reports import build_report
from sqlalchemy import select

app = FastAPI()


@app.post("/reports/{region}", status_code=202)
async def request_report(region: str, tasks: BackgroundTasks) -> dict[str, str]:
    tasks.add_task(build_report, region)
    return {"status": "scheduled"}


async def main() -> None:
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with Session() as session:
        session.add_all([Sale(region="north", cents=1200), Sale(region="north", cents=800)])
        await session.commit()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/reports/north")
        print(response.status_code, response.json())
    async with Session() as session:
        for report in await session.scalars(select(Report)):
            print(f"report {report.region}: {report.total_cents}")
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
