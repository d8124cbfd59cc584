"""One settings module and one model contract: what the app reads from the environment and from config.json."""

import pytest

from dashboard.app import create_app
from dashboard.constants import PALETTES, class_colours
from dashboard.inflight import EXTENSION
from dashboard.settings import Settings
from model.config import MODEL_DIR, ModelConfig
from training.contract import AGE_GROUPS, GENDERS, MAX_AGE, RACES, contract


def test_settings_read_every_variable_and_fall_back_on_blanks():
    settings = Settings.from_environ(
        {"RATE_LIMIT": "30/minute", "TRUSTED_PROXY_HOPS": "1", "BATCH_MAX_MB": "0.5", "EXPLANATION_SLOTS": "3", "PORT": "9000", "LOG_LEVEL": " "}
    )
    assert (settings.rate_limit, settings.trusted_proxy_hops, settings.explanation_slots, settings.port) == ("30/minute", 1, 3, 9000)
    assert settings.batch_max_bytes == 2**19 and settings.log_level == "INFO" and settings.explain_rate_limit == ""
    assert Settings.from_environ({}) == Settings()
    with pytest.raises(ValueError):
        Settings.from_environ({"EXPLANATION_SLOTS": "many"})


def test_redis_url_shares_the_rate_limits_unless_their_own_storage_is_set():
    assert Settings.from_environ({}).rate_limit_storage_uri == "memory://" and Settings().redis_url == ""
    shared = Settings.from_environ({"REDIS_URL": "redis://h:6379/0"})
    assert (shared.redis_url, shared.rate_limit_storage_uri) == ("redis://h:6379/0", "redis://h:6379/0")
    own = Settings.from_environ({"REDIS_URL": "redis://h:6379/0", "RATE_LIMIT_STORAGE_URI": "redis://other:6379/1"})
    assert own.rate_limit_storage_uri == "redis://other:6379/1"


def test_without_redis_jobs_stay_in_a_folder_of_their_own_and_with_it_go_to_celery():
    from dash import CeleryManager, DiskcacheManager

    from dashboard.jobs import RESULT_EXPIRY_S, background_manager, queue_error

    local = background_manager(Settings())
    assert isinstance(local, DiskcacheManager) and local.expire == RESULT_EXPIRY_S and queue_error(local) is None
    shared = background_manager(Settings(redis_url="redis://127.0.0.1:1/0"))  # nothing listens on port 1
    assert isinstance(shared, CeleryManager) and shared.handle.conf.result_expires == RESULT_EXPIRY_S
    assert "cannot be reached" in queue_error(shared)


def test_the_app_takes_its_settings_from_one_object_and_two_apps_keep_their_own():
    five = create_app(Settings(explanation_slots=5, batch_max_mb=1))
    two = create_app(Settings())
    assert five.server.extensions[EXTENSION].count == 5 and two.server.extensions[EXTENSION].count == 2


def test_config_json_carries_the_contract_training_defines():
    config = ModelConfig.from_file(MODEL_DIR / "config.json")
    assert (config.genders, config.races, config.max_age) == (GENDERS, RACES, MAX_AGE) and config.age_groups == AGE_GROUPS
    assert {key: config.raw[key] for key in contract(config.input_size)} == contract(config.input_size)
    assert config.classification_heads == ("gender", "race") and config.pixels == {"channels": 3, "dtype": "uint8", "color": "RGB"}


def test_each_label_keeps_its_colour_in_the_models_order():
    colours = class_colours(ModelConfig.from_file(MODEL_DIR / "config.json"))
    assert list(colours["race"]) == list(RACES) and list(colours["race"].values()) == list(PALETTES["race"])
    assert set(colours["age_group"].values()) == set(PALETTES["age_group"]) and len(colours["age_group"]) == len(AGE_GROUPS)


@pytest.mark.subprocesses
def test_the_local_job_folder_is_removed_when_the_server_exits():
    import subprocess
    import sys
    from pathlib import Path

    script = "from dashboard.jobs import background_manager; from dashboard.settings import Settings; print(background_manager(Settings()).handle.directory)"
    folder = Path(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.strip())
    assert folder.name.startswith("face2data-jobs-") and not folder.exists()
