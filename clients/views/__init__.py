"""Pages of the clients app: the list, a client's page, its forms and contacts.

Split by purpose: ``lists`` (the client list, export, saved filters, key accounts
without an account manager, the client picker), ``pages`` (one client: detail,
history, create/edit/delete, revert, sharing, account manager) and
``contacts``. Every read starts from ``visible_to(user)``; every write goes
through ``clients.services``.
"""
