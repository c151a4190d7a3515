"""Accounts: users, sessions and sign-in, passwords, API refresh tokens, legal consent, GDPR."""

EMAIL_SUBJECTS = {
    "verify": "Confirm your email address for DigitalDock",
    "email_change": "Confirm your new email address for DigitalDock",
    "email_changed": "The email address of your DigitalDock account is changing",
    "reset": "Reset your DigitalDock password",
    "lockout": "Sign-ins to your DigitalDock account were paused after failed attempts",
    "registration_attempt": "Someone tried to register with your DigitalDock address",
    "consent_update": "We updated our legal documents",
    "deletion": "Your DigitalDock account deletion request",
    "password_changed": "Your DigitalDock password was changed",
    "account_banned": "Your DigitalDock account was suspended",
    "account_unbanned": "Your DigitalDock account is open again",
    "seller_verified": "You are a verified seller on DigitalDock",
}
