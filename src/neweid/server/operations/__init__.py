"""Card operations after production (MGMT-10..14, DOC-1, DOC-2): loss reports and their revocation,
chip data lists, temporary certificates, chip content updates, voiding and destruction, daily statistics
and recalls.

Writes are the ``do_*`` actions of the submodules (:mod:`.loss`, :mod:`.temporary`, :mod:`.chip_updates`,
:mod:`.voiding`, :mod:`.recall`, :mod:`.statistics`); the citizen CA sits behind :mod:`.ca`. Import the
submodules directly; this package imports nothing so that Django can load the app.
"""
