"""Global search over HTTP: the API and the palette's fragment, by name, e-mail, phone and
domain, within what the caller may see."""

from pipewise.quotes.service import quote_service


def found(api, headers, q, **params):
    r = api.get("/api/v1/search", params={"q": q, **params}, headers=headers)
    assert r.status_code == 200, r.text
    return [(hit["type"], hit["title"]) for hit in r.json()["results"]]


class TestSearchApi:
    def test_names_emails_phones_and_domains(self, api, factory, session):
        user = factory.user()
        factory.pipeline()
        account = factory.account(user, name="Lovelace Analytics", domain="analytical.example")
        factory.contact(user, first_name="Ada", last_name="Lovelace", email="ada@analytical.example",
                        phone="+44 20 7946 0000", account_id=account.id)
        factory.contact(user, first_name="Charles", last_name="Babbage", email="charles@engine.example")
        deal = factory.deal(user, name="Difference engine", amount=5000)
        factory.lead(user, first_name="Grace", last_name="Hopper", company="Navy Compilers")
        quote = quote_service.create(session, data={"deal_id": deal.id, "title": "Engine parts"}, actor=factory.actor(user))
        session.commit()
        headers = factory.headers(user)
        assert ("contact", "Ada Lovelace") in found(api, headers, "love")
        assert ("account", "Lovelace Analytics") in found(api, headers, "LOVE")
        assert found(api, headers, "ada@anal") == [("contact", "Ada Lovelace")]
        assert found(api, headers, "analytical.ex") == [("account", "Lovelace Analytics")]
        assert found(api, headers, "+44 20 7946") == [("contact", "Ada Lovelace")]
        assert found(api, headers, "differ") == [("deal", "Difference engine")]
        assert found(api, headers, "navy") == [("lead", "Grace Hopper")]
        assert ("quote", f"{quote.number} · Engine parts") in found(api, headers, quote.number[:4])
        assert found(api, headers, "ada lovel") == [("contact", "Ada Lovelace")]  # several words: each must match
        assert found(api, headers, "babbage ada") == []

    def test_results_respect_visibility(self, api, factory, session):
        east, west = factory.team("East"), factory.team("West")
        mine, theirs = factory.user(team=east), factory.user(team=west)
        factory.contact(mine, first_name="Zebedee", last_name="East")
        factory.contact(theirs, first_name="Zebedee", last_name="West")
        admin = factory.user(role="admin")
        session.commit()
        assert found(api, factory.headers(mine), "zebedee") == [("contact", "Zebedee East")]
        assert sorted(found(api, factory.headers(admin), "zebedee")) == [("contact", "Zebedee East"), ("contact", "Zebedee West")]

    def test_short_long_and_odd_input(self, api, factory, session):
        user = factory.user()
        factory.contact(user, first_name="Al", last_name="Percent%")
        session.commit()
        headers = factory.headers(user)
        assert found(api, headers, "a") == []
        assert found(api, headers, "   ") == []
        assert found(api, headers, "percent%") == [("contact", "Al Percent%")]
        assert found(api, headers, "%") == []
        assert api.get("/api/v1/search", params={"q": "x" * 101}, headers=headers).status_code == 422
        assert api.get("/api/v1/search", params={"q": "ab", "per_type": 0}, headers=headers).status_code == 422
        assert api.get("/api/v1/search", params={"q": "ab"}).status_code == 401

    def test_per_type_limit(self, api, factory, session):
        user = factory.user()
        for n in range(7):
            factory.contact(user, first_name="Many", last_name=f"Smith{n}")
        session.commit()
        assert len(found(api, factory.headers(user), "smith")) == 5
        assert len(found(api, factory.headers(user), "smith", per_type=20)) == 7


class TestSearchPages:
    def test_palette_fragment_and_results_page(self, web, factory, session):
        user = factory.user()
        factory.contact(user, first_name="Ada", last_name="Lovelace", email="ada@analytical.example")
        session.commit()
        web.login(user)
        fragment = web.get("/search", params={"q": "lovel"}, headers={"HX-Request": "true"})
        assert fragment.status_code == 200
        assert 'role="option"' in fragment.text and "Ada Lovelace" in fragment.text and "<html" not in fragment.text
        page = web.get("/search", params={"q": "lovel"})
        assert page.status_code == 200 and "Ada Lovelace" in page.text and "<html" in page.text
        assert "Nothing starts with" in web.get("/search", params={"q": "zzzz"}, headers={"HX-Request": "true"}).text
        home = web.get("/").text
        assert 'id="search-dialog"' in home and "/static/js/search.js" in home

    def test_logged_out_goes_to_login(self, web):
        r = web.get("/search", params={"q": "ada"}, follow_redirects=False)
        assert r.status_code == 303 and "/login" in r.headers["location"]
