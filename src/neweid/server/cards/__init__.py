"""Cards: production batches, the card state machine and its history, the production-centre exchange,
receiving and quality control at the office, notification and issuance (MGMT-6, MGMT-7, MGMT-8, CARD-10).

Import the submodules directly (``cards.models``, ``cards.states``, ``cards.transitions``,
``cards.batching``, ``cards.office``, ``cards.issuance``); this package imports nothing so that Django can
load the app.
"""
