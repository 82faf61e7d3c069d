"""Real local servers for end-to-end tests (127.0.0.1, port 0; never the Internet).

- :class:`~tests.servers.webhook_receiver.WebhookReceiver` -- an HTTP receiver that verifies
  Standard Webhooks signatures with the ``standardwebhooks`` library, records every request,
  and can be told to fail, flake, be down, answer 410 / 429 + ``Retry-After``, or redirect::

      with WebhookReceiver(secret="whsec_...") as hook:
          ...  # point a webhook channel at hook.url
          hook.fail(503, times=2)          # the next two requests get 503
          assert hook.received[0].json["type"] == "watch.matched"

- :class:`~tests.servers.smtp.SMTPServer` -- aiosmtpd with STARTTLS required, its certificate
  issued by a throw-away trustme CA whose PEM is at ``.ca_file``::

      with SMTPServer() as smtp:
          ...  # email channel with smtp: {host: 127.0.0.1, port: smtp.port, ca_file: smtp.ca_file}
          assert smtp.messages[0]["Subject"].startswith("[")

- ``newssite.py`` -- the local news site (another engineer's).

Both have ``start()``/``stop()`` and are context managers; ``.received`` / ``.messages``
are appended from server threads, so read them after the sends you wait for
(``wait_for(n)`` blocks until n were accepted).
"""
