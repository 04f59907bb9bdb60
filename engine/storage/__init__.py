"""Storage: where the log lives and everything that differs between store kinds.

``store`` parses a store address; ``kinds.backend_for(store)`` gives its backend —
``sqlite`` or ``postgres``, each owning its recorder, client keys, dispatcher lease, SQL
dialect, light connection and connection diagnosis (the address knows no backend).
``creation`` makes a store once, ``keys`` seals client keys, ``chain`` links stored events,
``lease`` is the dispatcher's lease.
Nothing outside this package asks which kind of store it has.
"""
