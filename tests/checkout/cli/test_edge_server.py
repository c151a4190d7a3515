"""Issue #22: the options `digitaldock edge` runs uvicorn with."""

from __future__ import annotations


def test_uvicorn_closes_idle_connections_and_bounds_headers(make_settings):
    from checkout.cli.edge import server_options

    options = server_options(make_settings())
    assert options["timeout_keep_alive"] == 5 and options["h11_max_incomplete_event_size"] == 16 * 1024
    assert options["timeout_graceful_shutdown"] == 30 and options["server_header"] is False
    assert options["proxy_headers"] is False and "forwarded_allow_ips" not in options
    trusted = server_options(make_settings(TRUST_PROXY=True, FORWARDED_ALLOW_IPS="127.0.0.1,10.0.0.0/8"))
    assert trusted["proxy_headers"] is True and trusted["forwarded_allow_ips"] == ["127.0.0.1", "10.0.0.0/8"]


def test_the_options_start_a_real_uvicorn(make_settings):
    import uvicorn

    from checkout.cli.edge import server_options
    from checkout.web.app import create_app

    config = uvicorn.Config(create_app(make_settings()), **server_options(make_settings()))
    config.load()  # rejects an option uvicorn does not know
    assert config.timeout_keep_alive == 5 and config.h11_max_incomplete_event_size == 16 * 1024
