"""Delivery: file storage, signed download links, the buyer's library, seller uploads, the
approval queue and the retention of withdrawn products' files."""

EMAIL_SUBJECTS = {
    "new_version": "A new version of a product you own is ready",
    "submission_decided": "Your DigitalDock product submission was reviewed",
    "upload_refused": "An upload was refused and quarantined",
    "product_unlisted": "One of your DigitalDock products was unlisted",
    "claim_decided": "Your request to manage a DigitalDock seller page was decided",
    "stamp_skipped": "A file of yours was delivered without its PDF stamp",
}
