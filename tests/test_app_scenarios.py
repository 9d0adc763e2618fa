"""Pilot tests: pick scenarios in the real app and run each one once."""

from __future__ import annotations

import pytest
from textual.widgets import Switch

from playground.core.scenarios import SCENARIOS
from playground.ui.screens import ScenarioPicker

from .expected import EXPECTED, outcome_kind
from .pilot import add, entries, settle

SIZE = (100, 32)


async def test_pick_a_scenario_with_the_keyboard(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        await settle(pilot, lambda: isinstance(app.screen, ScenarioPicker))
        await pilot.press("down", "down", "enter")  # after-commit, run-sync, closed-session
        await settle(pilot, lambda: app.main.scenario.name == "closed-session")
        switches = [s.id for s in app.query(Switch)]
        assert switches == ["switch-expire_on_commit", "switch-refresh_in_block"]
        assert app.sub_title == "Session closed before reading"
        await add(pilot, "Foo")
        (result,) = entries(app)
        assert result.scenario == "closed-session"
        assert outcome_kind(result) == "DetachedInstanceError"
        await pilot.press("f3")
        assert app.main.settings["refresh_in_block"] is True
        await add(pilot, "Bar")
        assert outcome_kind(entries(app)[-1]) is None


async def test_escape_keeps_the_scenario(app_factory):
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        await settle(pilot, lambda: isinstance(app.screen, ScenarioPicker))
        await pilot.press("down", "escape")
        await settle(pilot, lambda: not isinstance(app.screen, ScenarioPicker))
        assert app.main.scenario.name == "after-commit"


async def test_footer_keys_follow_the_scenario(app_factory):
    app = app_factory(scenario="lazy-relationship")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f5")
        assert app.main.settings["refresh_posts"] is True
        labels = {a.binding.action: a.binding.description for a in app.active_bindings.values()}
        assert labels["toggle_option(0)"] == "selectin" and labels["toggle_option(3)"] == "refresh"
        await app.main.switch_scenario("after-commit")
        assert app.main.check_action("toggle_option", (2,)) is False
        labels = {a.binding.action: a.binding.description for a in app.active_bindings.values()}
        assert labels["toggle_option(1)"] == "refresh"


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_each_scenario_runs_once_in_the_app(app_factory, name: str):
    app = app_factory(scenario=name)
    async with app.run_test(size=SIZE) as pilot:
        await add(pilot, "Foo")
        (result,) = entries(app)
        assert result.scenario == name
        assert outcome_kind(result) == EXPECTED[name](SCENARIOS[name].settings())
