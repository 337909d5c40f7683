# Tributary's interface in English. Every message here must also be in fr.ftl
# (the i18n tests fail otherwise). Values in { $braces } are filled in by the code.

## The frame around every page

nav-skip = Skip to content
nav-menu = Menu
nav-your-account = Your account
nav-settings = Settings
nav-users = Users
nav-signed-in-as = Signed in as { $email }
nav-sign-out = Sign out
nav-folders = Folders and accounts
nav-compose = Write a message
nav-add-account = + Add mail account
nav-accounts = Accounts
nav-no-accounts = No accounts yet
search-label = Search mail
search-button = Search
folder-inbox = Inbox
folder-starred = Starred
folder-sent = Sent
folder-drafts = Drafts
folder-trash = Trash
unread-count = { $count } unread
check-now = Check mail now
close = Close
cancel = Cancel
back = Back
next = Next
save-changes = Save changes
keys-title = Keyboard shortcuts
keys-next-previous = Next / previous message
keys-o-or-enter = o or Enter
keys-open = Open message
keys-back = Back to the list
keys-star = Star or unstar
keys-search = Search
keys-g-then-i = g then i
keys-inbox = Go to the inbox
keys-answer = Reply / reply to all / forward
keys-help = Show this help
js-checking-mail = Checking for new mail…
js-checking-now = Checking now…

## Dates, times and sizes

month-short-1 = Jan
month-short-2 = Feb
month-short-3 = Mar
month-short-4 = Apr
month-short-5 = May
month-short-6 = Jun
month-short-7 = Jul
month-short-8 = Aug
month-short-9 = Sep
month-short-10 = Oct
month-short-11 = Nov
month-short-12 = Dec
# "2 Mar 2026 09:05"
date-full = { $day } { $month } { $year } { $time }
time-now = just now
time-soon = in a moment
time-minutes-ago = { $count ->
    [one] { $count } minute ago
   *[other] { $count } minutes ago
}
time-hours-ago = { $count ->
    [one] { $count } hour ago
   *[other] { $count } hours ago
}
time-days-ago = { $count ->
    [one] { $count } day ago
   *[other] { $count } days ago
}
time-minutes-ahead = { $count ->
    [one] in { $count } minute
   *[other] in { $count } minutes
}
time-hours-ahead = { $count ->
    [one] in { $count } hour
   *[other] in { $count } hours
}
time-days-ahead = { $count ->
    [one] in { $count } day
   *[other] in { $count } days
}
size-bytes = { $count ->
    [one] { $count } byte
   *[other] { $count } bytes
}
size-kb = { $value } KB
size-mb = { $value } MB
size-gb = { $value } GB
size-unknown = unknown size
unit-days = days
unit-minutes = minutes

## Sign-in, set-up, errors

login-title = Sign in
field-email = Email
field-email-address = Email address
field-password = Password
field-password-repeat = Repeat password
setup-title = Set up Tributary
setup-heading = Create the administrator
setup-help-before = This instance has no users yet. The first account you create here is its administrator. The{" "}
setup-code = setup code
setup-help-after = {" "}is printed in the server's log at start
setup-help-end = , so only whoever runs the server can claim it.
setup-code-field = Setup code
setup-submit = Create administrator
error-back = Back to the start page

## The message list

inbox-actions = Actions on selected messages
inbox-select-all = Select all
inbox-select = Select:
inbox-search-title = Search: { $query }
inbox-sent-to = To: { $to }
inbox-no-match = No messages match this search.
inbox-trash-empty = The trash is empty.
inbox-empty-before = No mail here yet. Add an account under{" "}
inbox-empty-after = , or check mail now.
action-restore = Move to inbox
action-delete-forever = Delete forever
action-empty-trash = Empty trash
action-mark-read = Mark read
action-mark-unread = Mark unread
action-star = Star
action-unstar = Unstar
action-trash = Move to trash
mark-sent = Sent
mark-sent-title = Sent from here
mark-starred = Starred
mark-attachments = Has attachments
mark-unread = unread
pager = Pages
pager-newer = Newer
pager-older = Older
no-subject = (no subject)
no-recipient = (no recipient)
unknown-sender = (unknown sender)
removed-account = Removed account

## One message

message-nav = Message navigation
message-original = View original
message-answer = Answer
message-reply = Reply
message-reply-all = Reply all
message-forward = Forward
message-content = Message content
header-from = From
header-to = To
header-cc = Cc
header-date = Date
header-sent-through = Sent through
header-via = Via
images-hidden = Remote images are hidden to protect your privacy.
images-show = Show images
images-shown = Remote images are shown for this message.
images-hide = Hide them
attachments = Attachments

## Mail accounts

accounts-title = Mail accounts
accounts-heading = Check mail from other accounts
accounts-help = Tributary fetches mail from these POP3 mailboxes on its own and shows it in your inbox. Passwords are stored encrypted.
accounts-none = No mail accounts yet.
accounts-add-first = Add your first one
accounts-edit = Edit & history
accounts-send-as = Send mail as
accounts-pause = Pause
accounts-resume = Resume
accounts-remove = Remove
accounts-add = + Add a mail account
notice-account-saved = The account is saved; Tributary is checking it now.
notice-account-removed = The account was removed.
notice-checking = Checking for new mail now.
status-next = next check { $when }
status-next-soon = checking in a moment
status-checking = Checking now…
status-off = Paused by you — mail is not being checked
status-waiting-minutes = { $count ->
    [one] Waiting: the server asked us to wait { $count } minute between checks
   *[other] Waiting: the server asked us to wait { $count } minutes between checks
}
status-waiting-hours = { $count ->
    [one] Waiting: the server asked us to wait { $count } hour between checks
   *[other] Waiting: the server asked us to wait { $count } hours between checks
}
status-unknown-error = an unknown error
status-error = Last check { $when } failed: { $problem } — { $next }
status-ok = Last checked { $when } · { $next }
status-ok-fetched = Last checked { $when } · { $count } new · { $next }
status-new = Not checked yet — { $next }
paused-auth = Paused: the server rejected the password — update it
paused-server = Suspended: the server reports a permanent problem with this mailbox — check its settings, then save to try again
paused-password-unreadable = Paused: the saved password can no longer be read — enter it again
paused-sign-in = Paused: the provider no longer accepts Tributary's sign-in (it was revoked, it expired, or the password changed) — sign in again
paused-certificate-changed = Paused: the server's certificate changed — open Edit & history and run Test connection to review the new certificate before trusting it
paused-other = Paused — edit the account to resume

## Adding and editing an account

account-add-title = Add a mail account
account-edit-title = Edit { $label }
account-new-help = Enter the address whose mail Tributary should fetch. It looks up the provider's POP3 server for you.
form-check-field = Please check “{ $field }”: { $problem }
account-email-help = The address this mailbox receives mail for; shown next to its messages.
account-username = User name
account-username-help = What the server expects at sign-in: usually the whole address, sometimes only the part before the @.
account-use-local-part = Use “{ $name }”
account-use-full-address = Use the whole address
account-password-held = The password you tested is kept (encrypted) — no need to type it again.
account-password-keep = Leave empty to keep the saved password.
account-password-help = The mailbox's password (for Gmail and others: an app password). Stored encrypted.
account-host = Server (host)
account-host-help = The POP3 server, e.g. pop.example.org.
account-advanced = Advanced options
account-port = Port
account-port-help = 995 for a secure connection, 110 with STARTTLS or without encryption.
account-security = Security
security-tls = Secure connection (TLS, port 995) — recommended
security-starttls = STARTTLS (port 110, upgraded to TLS; refuses to continue without it)
security-plain = No encryption — dangerous: the password travels readable
account-auth = Sign-in method
auth-oauth = Sign-in with { $provider } (OAuth 2.0)
auth-password = Password (USER/PASS)
auth-apop = APOP (old; only if your provider asks for it)
account-auth-help = Leave on “Password” unless the provider says otherwise.
trust-legend = Trust the server's certificate
trust-webpki = When a public certificate authority vouches for it (normal)
trust-ca = When signed by my own CA (self-hosted servers)
trust-ca-pem = CA certificate (PEM)
trust-pin = Only this exact certificate (pinned)
leave-legend = On the server, after fetching
leave-keep = Leave a copy on the server
leave-days-before = Delete it from the server after
leave-days-after = days
leave-delete = Delete it from the server once it is safely stored here
polling-legend = Checking
polling-auto = Automatically (more often when mail arrives, less when it is quiet)
polling-every-before = Every
polling-every-after = minutes
import-legend = The first time
import-all = Import the mail already on the server
import-new = Only mail that arrives from now on
account-max-size = Largest message to fetch (MB)
account-max-size-help = Bigger messages stay on the server and are listed below as skipped. Empty: the server-wide limit.
account-label = Label
account-label-help = The name shown in the sidebar and next to each message.
account-colour = Colour
colour-blue = Blue
colour-green = Green
colour-red = Red
colour-orange = Orange
colour-purple = Purple
colour-teal = Teal
colour-pink = Pink
colour-grey = Grey
test-connection = Test connection
account-add-submit = Add account
sign-in-with = Sign in with { $provider }
sign-in-again-with = Sign in again with { $provider }
sign-in-instead = Sign in with { $provider } instead
sign-in-no-password = No password here: { $provider } asks you to sign in and to allow Tributary to fetch and send this mailbox's mail.
oauth-continue-help = { $provider } will ask you to sign in as { $email } and to allow Tributary to fetch and send that mailbox's mail. Tributary never sees your { $provider } password: it keeps only the sign-in { $provider } gives it, encrypted, and you can withdraw it at { $provider } at any time.
oauth-continue = Continue to { $provider }
oauth-continue-once = This link works once, within 15 minutes.

## Test connection

test-ok-secure = securely ({ $version })
test-ok-plain = WITHOUT encryption
test-no-features = none announced
test-ok = { $count ->
    [one] Connected { $connected } and signed in. { $count } message waiting on the server ({ $size }). Server features: { $features }.
   *[other] Connected { $connected } and signed in. { $count } messages waiting on the server ({ $size }). Server features: { $features }.
}
test-starttls-offered = The server offers STARTTLS: switch to it, so that the password and your mail are encrypted on the way.
test-use-starttls = Switch to STARTTLS and test again
test-failed = The test failed: { $problem }
cert-heading = The server's certificate
cert-new-heading = The server's new certificate
cert-fingerprint = SHA-256 fingerprint
cert-subject = Issued to
cert-issuer = Issued by
cert-valid = Valid
cert-names = Names
cert-help-before = Trust it only if this fingerprint is the one your server's administrator gives you (on the server:{" "}
cert-help-after = ). From then on Tributary accepts exactly this certificate, and pauses the account if it ever changes.
cert-help-after-changed = ). From then on Tributary accepts exactly this certificate instead of the old one, and pauses the account if it ever changes.
cert-trust = Trust this certificate
cert-trust-new = Trust the new certificate

## History

runs-heading = Recent checks
runs-none = Not checked yet.
runs-started = Started
runs-why = Why
runs-result = Result
runs-new = New
runs-size = Size
runs-skipped = Skipped
runs-details = Details
trigger-manual = Check now
trigger-schedule = Scheduled
outcome-success = OK
outcome-partial = Partly done
outcome-running = Running
outcome-auth-error = Password rejected
outcome-temporary-error = Temporary problem
outcome-permanent-error = Failed
outcome-cancelled = Interrupted
skipped-heading = Skipped as too large
skipped-none = None.
skipped-help = These stay on the server. Raise the size limit above to fetch them on the next check.
skipped-uidl = Server id
skipped-noticed = Noticed

## Removing an account

account-remove-title = Remove { $label }
account-remove-heading = Remove “{ $label }”?
account-remove-help = Tributary will stop fetching this mailbox. Nothing changes on the mail server itself.
account-remove-fetched = { $count ->
    [one] The { $count } message already fetched
   *[other] The { $count } messages already fetched
}
account-remove-keep = Keep them in my inbox
account-remove-delete = Delete them from Tributary too
account-remove-submit = Remove account

## Settings

settings-title = Settings
settings-heading = Language and time zone
settings-language-link = Language and time zone
settings-password-link = Change your Tributary password
settings-tokens-link = API tokens
settings-saved = Your settings are saved.
settings-language = Language
settings-language-browser = As my browser asks
settings-time-zone = Time zone
settings-time-zone-browser = As my browser says ({ $zone })
settings-time-zone-help = Dates and times are shown in this zone. It is now { $now }.
settings-unknown-zone = That time zone is not known.
password-title = Change password
password-heading = Change your password
password-help = Changing it signs you out on every other device.
password-done = Your password has been changed.
password-current = Current password
password-new = New password
password-new-repeat = Repeat the new password
password-min = { $count ->
    [one] At least { $count } character.
   *[other] At least { $count } characters.
}

## API tokens

tokens-help-before = Scripts use a token to reach the{" "}
tokens-help-api = REST API
tokens-help-as-you = {" "}as you:{" "}
tokens-help-scopes = A read token can only read your accounts and mail; a write token can also change them.
tokens-new = Your new token — copy it now, it is shown only this once:
tokens-name = Name
tokens-scope = Scope
tokens-created = Created
tokens-last-used = Last used
tokens-revoked = Revoked
tokens-revoke = Revoke
tokens-create-heading = Create a token
tokens-name-example = backup script
tokens-name-help = So you recognise it later.
tokens-scope-read = Read — list accounts, read mail
tokens-scope-write = Write — also add, change and delete
tokens-create = Create token

## API token rows

scope-read = read
scope-write = write
tokens-never = never

## Sent and drafts

outbox-state-draft = Draft
outbox-state-sending = Sending…
outbox-state-sent = Sent
outbox-state-failed = Not sent
outbox-state-uncertain = May have been sent
notice-queued = Your message is on its way.
notice-resent = The message will be sent again.
notice-draft-deleted = The draft was deleted.
outbox-no-drafts = No drafts.
outbox-nothing-sent = Nothing sent yet.
outbox-to = to { $to }
outbox-open = Open
outbox-edit = Edit
outbox-send-again = Send again

## Sent and drafts, deleting

outbox-delete = Delete

## Writing a message

compose-new = New message
compose-reply-all = Reply to all
notice-draft-saved = Draft saved.
compose-cannot-send = None of your accounts can send mail yet. POP3 only downloads mail: to send, each account also needs its provider's SMTP server.
compose-first = {" "}first.
compose-set-up-sending = Set up sending for { $label }
compose-to-example = name@example.org, Someone <someone@example.net>
compose-bcc = Bcc
compose-bcc-help = Bcc recipients get the message without the others seeing them.
compose-subject = Subject
compose-body = Message
compose-body-help = Plain text. Your signature is added when the message is sent.
compose-forward-files = The forwarded message's attachments
compose-include-them = Include them
compose-attach-whole = Attach the whole original message instead
compose-leave-out = Leave them out
compose-original = The original message
compose-quote = Quote it in the text
compose-also-attach = Also attach it as a file
compose-attached = Attached
compose-attach = Attach files
compose-send = Send
compose-save-draft = Save draft

## Administration

admin-role = Role
admin-status = Status
admin-actions = Actions
admin-you = you
admin-administrator = Administrator
admin-user = User
admin-disabled = Disabled
admin-active = Active
admin-enable = Enable
admin-disable = Disable
admin-new-password-for = New password for { $email }
admin-reset = Reset password
admin-add-heading = Add a user
admin-password-help = At least { $count } characters; tell it to the person, who can change it under Settings.
admin-is-admin = Administrator (can manage users)
admin-add = Add user

## Sending mail as an account

sending-help = POP3 only downloads mail. To answer from this address, Tributary sends through your provider's SMTP server, signing in like your mail program would. Most providers use the same user name and password as for POP3.
sending-look = How your messages look
sending-name = Your name
sending-from = From address
sending-reply-to = Reply-To (optional)
sending-signature = Signature (optional)
sending-server-legend = Outgoing server (SMTP)
sending-detect = Find my server
sending-detect-help = Looks up the From address's domain (DNS, then the usual names on ports 465 and 587). Saves nothing.
sending-server = Server
sending-tls = TLS (port 465, recommended)
sending-starttls = STARTTLS, required (port 587)
sending-plain = None — password sent unencrypted (dangerous)
sending-login-legend = Sign in with
sending-login-pop3 = The same user name and password as for POP3
sending-login-own = A different login:
sending-username = SMTP user name
sending-password = SMTP password
sending-password-keep = Leave empty to keep the one saved.
sending-self-hosted = Self-hosted server: trust its certificate
sending-ca = Certificate authority (PEM)
sending-pin = Or pin the certificate (SHA-256)
sending-save-test = Save and test sending
sending-try = Test without saving
sending-save = Save
sending-remove = Stop sending from this account

## Sign-in, set-up and server detection

login-expired = The sign-in form had expired. Please try again.
login-throttled = { $count ->
    [one] Too many failed sign-ins. Wait { $count } second, then try again.
   *[other] Too many failed sign-ins. Wait { $count } seconds, then try again.
}
login-wrong = That email and password do not match.
login-disabled = This user is disabled. Ask your administrator.
password-differ = The two new passwords differ.
password-wrong = The current password is wrong.
setup-wrong-code = That setup code is wrong. Copy it from the server's log.
setup-differ = The two passwords differ.
found-server = Found { $host } on port { $port } ({ $security }) — { $source }.
found-tls = secure connection
found-starttls = upgraded to a secure connection with STARTTLS
found-plain = NOT encrypted
found-source-list = from Tributary's list of mail providers
found-source-srv = announced by the domain (DNS SRV record)
found-source-srv-untested = announced by the domain (DNS SRV record), but it did not pass a test with a publicly trusted certificate just now
found-source-probe = found by trying the usual server names

## Errors from the mail servers and the network (lower-case: they are parts of a
## sentence; shown alone, the first letter is made upper-case)
phase-connect = connecting
phase-tls = the TLS handshake
phase-read = waiting for the server
phase-write = sending to the server
phase-session = the whole session
phase-greeting = waiting for the server's greeting
phase-answer-to = waiting for the answer to { $command }
phase-message = sending the message
phase-final-reply = waiting for the server to accept the message
io-refused = the server refused the connection
io-reset = the connection was reset
io-unreachable = the network or the server cannot be reached
io-timeout = the connection timed out
io-closed = the connection was closed
io-other = { $problem }
date-unknown = an unknown date
duration-seconds = { $count ->
    [one] { $count } second
   *[other] { $count } seconds
}
duration-minutes = { $count ->
    [one] { $count } minute
   *[other] { $count } minutes
}
connect-address-refused = this server's address is not allowed: it points into a private or local network
connect-unresolved = the server name could not be resolved
connect-no-addresses = the server name has no addresses
connect-timeout = timed out connecting to the server
connect-failed = could not connect to the server: { $problem }
mail-connection-failed = connection failed: { $problem }
mail-timed-out = timed out during { $phase }
mail-tls-error = TLS error: { $problem }
mail-stls-refused = the server refused STARTTLS: { $server }
mail-plaintext-refused = refusing to send credentials over an unencrypted connection (choose TLS or STARTTLS)
mail-line-too-long = the server sent a line longer than { $count } bytes
pop3-network = network error: { $problem }
pop3-closed = the server closed the connection unexpectedly
pop3-stls-not-offered = the server does not offer STARTTLS (STLS); refusing to continue without encryption
pop3-protocol = the server does not speak POP3 as expected: { $problem }
pop3-too-many = the server sent more than { $count } list entries
pop3-auth = the server rejected the login: { $server }
pop3-in-use = the mailbox is in use by another session: { $server }
pop3-login-delay = the server asks to wait before logging in again: { $server }
pop3-sys-temp = temporary server problem: { $server }
pop3-sys-perm = permanent server problem: { $server }
pop3-unsupported = the server does not offer { $feature }
pop3-command-failed = { $command } failed: { $server }
smtp-network = network error during { $phase }: { $problem }
smtp-closed = the server closed the connection during { $phase }
smtp-stls-not-offered = the server does not offer STARTTLS; refusing to continue without encryption
smtp-protocol = the server does not speak SMTP as expected: { $problem }
smtp-auth-unsupported = the server does not offer { $feature } sign-in
smtp-auth = the server rejected the sign-in ({ $code }): { $server }
smtp-rejected = the server refused { $command } ({ $code }): { $server }
smtp-recipient-rejected = the server refused the recipient { $recipient } ({ $code }): { $server }
smtp-too-large = the message is { $size } bytes; the server accepts at most { $limit }
smtp-bad-envelope = { $address } cannot be used as an envelope address
smtp-no-recipients = the message has no recipients
smtp-no-smtputf8 = an address has non-ASCII characters before the @ and the server does not accept them (no SMTPUTF8)
smtp-maybe-sent = the message may have been sent: { $problem }
tls-timeout = timed out during the TLS handshake
tls-pin-malformed = a SHA-256 fingerprint is 64 hex digits (colons allowed)
tls-setup-failed = TLS cannot be set up: { $problem }
tls-ca-not-pem = the custom CA is not valid PEM: { $problem }
tls-ca-unusable = the custom CA is not usable: { $problem }
tls-ca-empty = the custom CA holds no certificate
tls-trust-unusable = the trusted certificates are not usable: { $problem }
tls-bad-server-name = "{ $host }" is not a valid server name
tls-closed = the server closed the connection during the handshake
tls-not-tls = the server did not answer in TLS — this port may expect STARTTLS or no encryption (995 is POP3 over TLS, 110 is STARTTLS)
tls-no-common-version = the server offers no TLS version or cipher Tributary accepts (TLS 1.2 or 1.3 is needed; the server may only offer outdated versions)
tls-failed = the TLS handshake failed: { $problem }
cert-pin-changed = the server's certificate changed: it is not the certificate pinned for this account (it is now SHA-256 { $fingerprint }) — review the new certificate before trusting it
cert-refused = the server's certificate was refused: { $problem }
cert-untrusted = the server's certificate is not signed by an authority Tributary trusts (it is self-signed, or signed by a private CA) — paste the server's certificate as the account's CA, or trust it by its fingerprint
cert-wrong-name = the server's certificate is not for { $host }
cert-names-other = the certificate is for { $names }, not { $host } — use the server name the certificate names
cert-no-names = the server's certificate names no host, so it is not for { $host }
cert-expired-on = the server's certificate expired on { $date } — its administrator must renew it
cert-expired = the server's certificate has expired — its administrator must renew it
cert-not-yet-from = the server's certificate is only valid from { $date } — check the clock of this machine and of the server
cert-not-yet = the server's certificate is not valid yet — check the clock of this machine and of the server
cert-revoked = the server's certificate has been revoked
cert-bad-signature = the signature on the server's certificate does not verify
cert-not-for-server = the server's certificate is not meant for a server
cert-unreadable = the server's certificate cannot be read
oauth-not-configured = sign-in with { $provider } is not set up on this Tributary any more (the administrator sets TRIBUTARY_OAUTH_*)
oauth-refused = { $provider } no longer accepts this sign-in ({ $code }) — sign in again
oauth-unreachable = the sign-in provider cannot be reached: { $problem }
oauth-unusable = the sign-in provider's answer cannot be used: { $problem }
oauth-store = Tributary could not read the sign-in just now; it will try again
keys-unreadable = the master key cannot be read: { $problem }

## What a check of an account ended with
fetch-login-rejected = The server rejected the user name or password — update the password to resume checking this account. The server said: { $server }
fetch-mailbox-suspended = The server reports a permanent problem with this mailbox; checking is suspended until you edit the account. The server said: { $server }
fetch-not-saved = Tributary could not save mail just now; it will try again.
fetch-keys-later = Tributary cannot read its master key just now; it will try again (the administrator should check the key file).
fetch-password-unreadable = the stored password cannot be decrypted with the current master key — enter the password again
fetch-settings-invalid = the account's settings are invalid: { $problem }
fetch-run-timed-out = the check took longer than { $limit } and was stopped; mail saved so far is kept and the rest comes with the next check
fetch-token-refused = the server refused the sign-in token — sign in again; the server said: { $server }
settings-bad-port = invalid port { $port }
settings-password-account = the account signs in with a password
run-lease-lost = the run stopped because its lease could not be renewed
run-shutting-down = the run stopped because Tributary was shutting down
run-worker-stopped = the worker stopped during this run
run-refused-messages = { $count ->
    [one] The server refused to send { $count } message; it will be tried again.
   *[other] The server refused to send { $count } messages; they will be tried again.
}
run-quit-unconfirmed = The server did not confirm the end of the session, so messages to delete there stay until the next check.

## What a form or a request got wrong (parts of a sentence: "Check the field: …")
invalid-password-missing = enter the mailbox's password
invalid-password-line-break = a POP3 password cannot contain line breaks
invalid-host-missing = enter the server's host name, e.g. pop.example.org
invalid-host-characters = a host name has only letters, digits, dots and hyphens (or is an IP address)
invalid-text = too long or contains control characters
invalid-ca-too-large = the certificate is too large
invalid-trust-both = choose either a custom CA or a pinned certificate, not both
invalid-port = must be between 1 and 65535
invalid-username = enter the user name the server expects
invalid-password-with-provider = this account signs in with its provider; it has no password to enter
invalid-poll-minutes = must be between 1 and 1440 minutes
invalid-max-bytes = must be at least 1024 bytes
invalid-delete-days-missing = required with delete_after_days
invalid-delete-days-range = days must be between 1 and 3650
invalid-color = expected # and six hex digits, e.g. #3b6fd4
invalid-add-by-sign-in = an account that signs in with its provider is added by signing in (Sign in with … in the web, or POST /api/v1/accounts/sign-in)
invalid-use-sign-in = use “Sign in with …” to sign in with the provider
invalid-password-was-provider = enter the mailbox's password: the account signed in with its provider until now
invalid-sign-in-first = sign in with the provider first
invalid-no-provider-client = sign-in with a provider is not set up for this address on this Tributary (the administrator registers it with TRIBUTARY_OAUTH_*)
invalid-sign-in-unreadable = the sign-in's account cannot be read back
invalid-smtp-username-missing = enter the SMTP user name that goes with this password
invalid-no-recipient = add at least one recipient
invalid-subject-control = line breaks and control characters are not allowed in the subject
invalid-subject-long = the subject is too long
invalid-body-nul = the text contains a NUL character
invalid-reply-unknown = the message answered is not stored here
invalid-smtp-password-missing = enter the password for this SMTP user name
invalid-choose-account = choose the account to send from
invalid-choose-security = choose how the connection is protected
invalid-choose-auth = choose a sign-in method
invalid-port-number = a port is a number from 1 to 65535
invalid-paste-ca = paste the CA certificate (PEM)
invalid-paste-pin = paste the certificate's SHA-256 fingerprint
invalid-days-number = enter a number of days
invalid-choose-leave = choose what happens on the server
invalid-poll-too-often = { $provider } locks accounts that are checked more often than every { $count } minutes: choose { $count } or more
invalid-too-many-recipients = { $count } recipients; at most { $limit } per message
address-control = line breaks and control characters are not allowed in addresses
address-malformed = { $address } is not an email address (it needs a name, an @ and a domain)
address-local-part = { $address }: the part before the @ is not valid
address-domain = { $address }: the domain is not valid
address-too-long = { $address } is too long for an email address

## How sending a message ended
send-not-recorded = Tributary could not record the sending just now; it will try again
send-password-unreadable = the stored SMTP password cannot be decrypted with the current master key — enter it again
send-no-identity = the account has no sending settings
send-no-account = the account this message was to be sent from was removed
send-settings-invalid = the sending settings are invalid: { $problem }
send-uncertain = the message may have been sent: the server got all of it but { $problem } before it said whether it accepted it. Check with a recipient (or the Sent folder of the account's own webmail) before sending it again
send-stopped-after-handing-over = the sending stopped after the message was handed to the server, before it answered: it may have been sent
invalid-minutes-number = enter a number of minutes
invalid-megabytes = enter megabytes from 1 to 2048

## The sending settings of an account
sending-saved = Saved. This account can now send mail.
sending-found = { $found } Save and test sending to make sure.
sending-not-found = No SMTP submission server was found automatically for { $domain }. Enter the server your provider names (often smtp.{ $domain }, port 465).
sending-unencrypted = a connection WITHOUT encryption
sending-try-worked = Test sending worked: signed in over { $version }. Nothing was sent, and nothing saved yet.
sending-retype-password = Type the SMTP password again to save it.
sending-try-failed = Test sending failed (nothing saved): { $problem }
sending-test-worked = Saved. Test sending worked: signed in over { $version }. Nothing was sent.
sending-test-worked-unencrypted = Saved. Test sending worked, WITHOUT encryption. Nothing was sent.
sending-test-failed = Saved, but test sending failed: { $problem }

## Error pages
error-not-found = Not found
error-not-found-text = There is nothing at this address.
error-form-expired = This form has expired
error-form-expired-text = The form was sent from an old page or from another site, so nothing was changed. Go back, reload the page and try again.
error-bad-request = Bad request
error-conflict = Not possible right now
error-internal = Something went wrong
error-internal-text = The server could not finish this request. It has been logged; please try again.
conflict-paused-by-you = Paused by you — resume the account to check it
bad-request-form-incomplete = The form arrived incomplete or malformed. Go back, reload the page and try again.
bad-request-message-form = The message form arrived incomplete. Go back and try again.
bad-request-mode = mode is reply, all or forward
bad-request-token-scope = choose read or write
bad-request-page-link = that page link is broken
bad-request-action = unknown action
bad-request-keep-mail = choose whether to keep the mail
sign-in-provider-refused = The provider did not sign you in ({ $code }); nothing was saved. Start again from the account page to try once more.
sign-in-callback-only = This address is only for the provider's answer to a sign-in.
sign-in-unknown = This sign-in is unknown or has expired (each one works once, within 15 minutes) — start it again from the account page.
sign-in-other-user = This sign-in was started by another Tributary user — sign in to Tributary as that user, or start again.
sign-in-other-session = This sign-in was started in another browser session — start it again here.
sending-no-identity = this account cannot send yet: set up its sending server (SMTP) first
sending-too-large = the message is { $size } bytes; at most { $limit } can be sent
sending-rate-limited = { $count ->
    [one] too many messages sent in the last hour; try again in { $count } minute
   *[other] too many messages sent in the last hour; try again in { $count } minutes
}
compose-no-recipients = add at least one recipient (To, Cc or Bcc)
compose-control = { $field }: line breaks and control characters are not allowed
compose-attachment-name = the attachment name { $name } is not allowed (no line breaks, slashes or quotes)
compose-content-type = { $value } is not a content type (type/subtype)

## What to do at a known provider before its mail can be fetched
advice-outlook = Turn on POP in Outlook.com (Settings → Mail → Forwarding and IMAP → "Let devices and apps use POP"). Outlook.com accepts only Microsoft sign-in (OAuth2), not a password.
advice-gmail = Turn on POP in Gmail (Settings → See all settings → Forwarding and POP/IMAP → Enable POP) and sign in with an app password (Google Account → Security → 2-Step Verification → App passwords).
advice-yahoo = Create an app password (Yahoo Account Info → Account security → Generate app password) and use it here instead of your Yahoo password.
advice-aol = Create an app password (AOL Account Security → Generate app password) and use it here instead of your AOL password.
advice-gmx = Allow access by mail programs first (GMX settings → E-Mail → POP3/IMAP Abruf → "POP3 und IMAP Zugriff erlauben").
advice-gmx-international = Allow access by mail programs first (GMX settings → POP3 & IMAP → enable access).
advice-web-de = Allow access by mail programs first (WEB.DE settings → E-Mail → POP3/IMAP Abruf → "POP3 und IMAP Zugriff erlauben"). WEB.DE locks accounts that are checked more often than every 15 minutes.
advice-orange = Sign in with your Orange mail password (the one of the Orange Mail web page).
advice-free = Sign in with the whole address and your Free mail password; Free's sending server wants the same login.
advice-la-poste = Allow mail programs first (laposte.net → Paramètres → Comptes → "Autoriser l'accès POP/IMAP").
advice-icloud = iCloud Mail offers no POP3 (only IMAP), so Tributary cannot fetch it. Forward it to an address Tributary can fetch instead.

## The wizard, writing and answering
wizard-not-found = No POP3 server was found automatically for { $domain }. Enter the server your provider names (often pop.{ $domain }, port 995).
wizard-microsoft-not-set-up = Microsoft sign-in is not set up on this Tributary: the administrator registers it first (README, “Sign-in with Microsoft and Google”).
wizard-whole-address = Enter the whole address, like name@example.org.
compose-not-sent = Not sent: { $problem }. Your message is kept as a draft.
reply-someone = someone
reply-quote-header = On { $date }, { $name } wrote:
forward-separator = Forwarded message
forward-line = { $name }: { $value }
forward-from = From
forward-date = Date
forward-subject = Subject
forward-to = To
forward-cc = Cc

## People's own sign-in, and the administration
user-email-missing = enter an email address
user-email-too-long = that email address is too long
user-email-invalid = that does not look like an email address (name@example.org)
user-email-taken = a user with this email already exists
user-unknown = no user with this email
user-password-short = the password must have at least { $count } characters
user-password-long = the password must have at most { $count } bytes
admin-create-failed = Could not create the user: { $problem }.
admin-disable-self = You cannot disable yourself.
admin-user-disabled = { $email } is disabled and signed out everywhere.
admin-user-enabled = { $email } can sign in again.
admin-password-reset = The password of { $email } was reset; they were signed out everywhere.
admin-reset-failed = Could not reset the password: { $problem }.
