# L'interface de Tributary en français. Chaque message doit aussi figurer dans en.ftl
# (les tests i18n échouent sinon). Les valeurs entre { $accolades } sont remplies par le code.
# Avant « : », une espace insécable (U+00A0), comme le veut la typographie française.

## Le cadre de chaque page

nav-skip = Aller au contenu
nav-menu = Menu
nav-your-account = Votre compte
nav-settings = Paramètres
nav-users = Utilisateurs
nav-signed-in-as = Connecté en tant que { $email }
nav-sign-out = Se déconnecter
nav-folders = Dossiers et comptes
nav-compose = Écrire un message
nav-add-account = + Ajouter un compte
nav-accounts = Comptes
nav-no-accounts = Aucun compte pour l'instant
search-label = Rechercher dans les messages
search-button = Rechercher
folder-inbox = Boîte de réception
folder-starred = Suivis
folder-sent = Envoyés
folder-drafts = Brouillons
folder-trash = Corbeille
unread-count = { $count ->
    [one] { $count } non lu
   *[other] { $count } non lus
}
check-now = Relever le courrier
close = Fermer
cancel = Annuler
back = Retour
next = Suivant
save-changes = Enregistrer
keys-title = Raccourcis clavier
keys-next-previous = Message suivant / précédent
keys-o-or-enter = o ou Entrée
keys-open = Ouvrir le message
keys-back = Revenir à la liste
keys-star = Suivre ou ne plus suivre
keys-search = Rechercher
keys-g-then-i = g puis i
keys-inbox = Aller à la boîte de réception
keys-answer = Répondre / répondre à tous / transférer
keys-help = Afficher cette aide
js-checking-mail = Recherche de nouveaux messages…
js-checking-now = Vérification en cours…

## Dates, heures et tailles

month-short-1 = janv.
month-short-2 = févr.
month-short-3 = mars
month-short-4 = avr.
month-short-5 = mai
month-short-6 = juin
month-short-7 = juil.
month-short-8 = août
month-short-9 = sept.
month-short-10 = oct.
month-short-11 = nov.
month-short-12 = déc.
# « 2 mars 2026 à 09:05 »
date-full = { $day } { $month } { $year } à { $time }
time-now = à l'instant
time-soon = dans un instant
time-minutes-ago = il y a { $count } { $count ->
    [one] minute
   *[other] minutes
}
time-hours-ago = il y a { $count } { $count ->
    [one] heure
   *[other] heures
}
time-days-ago = il y a { $count } { $count ->
    [one] jour
   *[other] jours
}
time-minutes-ahead = dans { $count } { $count ->
    [one] minute
   *[other] minutes
}
time-hours-ahead = dans { $count } { $count ->
    [one] heure
   *[other] heures
}
time-days-ahead = dans { $count } { $count ->
    [one] jour
   *[other] jours
}
size-bytes = { $count } { $count ->
    [one] octet
   *[other] octets
}
size-kb = { $value } Ko
size-mb = { $value } Mo
size-gb = { $value } Go
size-unknown = taille inconnue
unit-days = jours
unit-minutes = minutes

## Connexion, mise en service, erreurs

login-title = Se connecter
field-email = Adresse e-mail
field-email-address = Adresse e-mail
field-password = Mot de passe
field-password-repeat = Répétez le mot de passe
setup-title = Mettre en service Tributary
setup-heading = Créer l'administrateur
setup-help-before = Cette instance n'a encore aucun utilisateur. Le premier compte créé ici en devient l'administrateur. Le{" "}
setup-code = code de mise en service
setup-help-after = {" "}est écrit dans le journal du serveur au démarrage
setup-help-end = , si bien que seule la personne qui fait tourner le serveur peut le revendiquer.
setup-code-field = Code de mise en service
setup-submit = Créer l'administrateur
error-back = Retour à la page d'accueil

## La liste des messages

inbox-actions = Actions sur les messages sélectionnés
inbox-select-all = Tout sélectionner
inbox-select = Sélectionner :
inbox-search-title = Recherche : { $query }
inbox-sent-to = À : { $to }
inbox-no-match = Aucun message ne correspond à cette recherche.
inbox-trash-empty = La corbeille est vide.
inbox-empty-before = Pas encore de courrier ici. Ajoutez un compte dans les{" "}
inbox-empty-after = , ou relevez le courrier maintenant.
action-restore = Remettre dans la boîte de réception
action-delete-forever = Supprimer définitivement
action-empty-trash = Vider la corbeille
action-mark-read = Marquer comme lu
action-mark-unread = Marquer comme non lu
action-star = Suivre
action-unstar = Ne plus suivre
action-trash = Mettre à la corbeille
mark-sent = Envoyé
mark-sent-title = Envoyé depuis Tributary
mark-starred = Suivi
mark-attachments = Avec pièces jointes
mark-unread = non lu
pager = Pages
pager-newer = Plus récents
pager-older = Plus anciens
no-subject = (sans objet)
no-recipient = (sans destinataire)
unknown-sender = (expéditeur inconnu)
removed-account = Compte supprimé

## Un message

message-nav = Navigation entre les messages
message-original = Voir l'original
message-answer = Répondre
message-reply = Répondre
message-reply-all = Répondre à tous
message-forward = Transférer
message-content = Contenu du message
header-from = De
header-to = À
header-cc = Cc
header-date = Date
header-sent-through = Envoyé par
header-via = Via
images-hidden = Les images distantes sont masquées pour protéger votre vie privée.
images-show = Afficher les images
images-shown = Les images distantes sont affichées pour ce message.
images-hide = Les masquer
attachments = Pièces jointes

## Comptes de messagerie

accounts-title = Comptes de messagerie
accounts-heading = Consulter le courrier d'autres comptes
accounts-help = Tributary relève de lui-même le courrier de ces boîtes POP3 et l'affiche dans votre boîte de réception. Les mots de passe sont conservés chiffrés.
accounts-none = Aucun compte de messagerie pour l'instant.
accounts-add-first = Ajoutez le premier
accounts-edit = Modifier et historique
accounts-send-as = Envoyer en tant que
accounts-pause = Mettre en pause
accounts-resume = Reprendre
accounts-remove = Supprimer
accounts-add = + Ajouter un compte de messagerie
notice-account-saved = Le compte est enregistré ; Tributary le vérifie maintenant.
notice-account-removed = Le compte a été supprimé.
notice-checking = Recherche de nouveaux messages en cours.
status-next = prochaine { $when }
status-next-soon = vérification dans un instant
status-checking = Vérification en cours…
status-off = Mis en pause par vous — le courrier n'est pas relevé
status-waiting-minutes = En attente : le serveur demande d'attendre { $count } { $count ->
    [one] minute
   *[other] minutes
} entre deux vérifications
status-waiting-hours = En attente : le serveur demande d'attendre { $count } { $count ->
    [one] heure
   *[other] heures
} entre deux vérifications
status-unknown-error = une erreur inconnue
status-error = La dernière vérification ({ $when }) a échoué : { $problem } — { $next }
status-ok = Dernière vérification { $when } · { $next }
status-ok-fetched = Dernière vérification { $when } · { $count } { $count ->
    [one] nouveau
   *[other] nouveaux
} · { $next }
status-new = Pas encore vérifié — { $next }
paused-auth = En pause : le serveur a refusé le mot de passe — mettez-le à jour
paused-server = Suspendu : le serveur signale un problème permanent avec cette boîte — vérifiez ses réglages, puis enregistrez pour réessayer
paused-password-unreadable = En pause : le mot de passe enregistré ne peut plus être lu — saisissez-le à nouveau
paused-sign-in = En pause : le fournisseur n'accepte plus la connexion de Tributary (révoquée, expirée, ou mot de passe changé) — reconnectez-vous
paused-certificate-changed = En pause : le certificat du serveur a changé — ouvrez « Modifier et historique » et lancez « Tester la connexion » pour examiner le nouveau certificat avant de lui faire confiance
paused-other = En pause — modifiez le compte pour reprendre

## Ajouter et modifier un compte

account-add-title = Ajouter un compte de messagerie
account-edit-title = Modifier { $label }
account-new-help = Saisissez l'adresse dont Tributary doit relever le courrier. Il cherche pour vous le serveur POP3 du fournisseur.
form-check-field = Vérifiez « { $field } » : { $problem }
account-email-help = L'adresse à laquelle cette boîte reçoit le courrier ; affichée à côté de ses messages.
account-username = Nom d'utilisateur
account-username-help = Ce que le serveur attend à la connexion : le plus souvent l'adresse entière, parfois seulement la partie avant le @.
account-use-local-part = Utiliser « { $name } »
account-use-full-address = Utiliser l'adresse entière
account-password-held = Le mot de passe testé est conservé (chiffré) — inutile de le saisir à nouveau.
account-password-keep = Laissez vide pour garder le mot de passe enregistré.
account-password-help = Le mot de passe de la boîte (pour Gmail et d'autres : un mot de passe d'application). Conservé chiffré.
account-host = Serveur (hôte)
account-host-help = Le serveur POP3, par exemple pop.example.org.
account-advanced = Options avancées
account-port = Port
account-port-help = 995 pour une connexion sécurisée, 110 avec STARTTLS ou sans chiffrement.
account-security = Sécurité
security-tls = Connexion sécurisée (TLS, port 995) — recommandé
security-starttls = STARTTLS (port 110, passé en TLS ; refuse de continuer sans)
security-plain = Sans chiffrement — dangereux : le mot de passe circule en clair
account-auth = Méthode de connexion
auth-oauth = Connexion avec { $provider } (OAuth 2.0)
auth-password = Mot de passe (USER/PASS)
auth-apop = APOP (ancien ; seulement si votre fournisseur le demande)
account-auth-help = Laissez « Mot de passe » sauf si le fournisseur indique autre chose.
trust-legend = Faire confiance au certificat du serveur
trust-webpki = Quand une autorité de certification publique s'en porte garante (normal)
trust-ca = Quand il est signé par ma propre autorité (serveurs auto-hébergés)
trust-ca-pem = Certificat de l'autorité (PEM)
trust-pin = Seulement ce certificat précis (épinglé)
leave-legend = Sur le serveur, après la relève
leave-keep = Laisser une copie sur le serveur
leave-days-before = Le supprimer du serveur au bout de
leave-days-after = jours
leave-delete = Le supprimer du serveur dès qu'il est conservé ici en sécurité
polling-legend = Vérification
polling-auto = Automatiquement (plus souvent quand le courrier arrive, moins quand c'est calme)
polling-every-before = Toutes les
polling-every-after = minutes
import-legend = La première fois
import-all = Importer le courrier déjà présent sur le serveur
import-new = Seulement le courrier qui arrive à partir de maintenant
account-max-size = Plus gros message à relever (Mo)
account-max-size-help = Les messages plus gros restent sur le serveur et sont listés plus bas comme ignorés. Vide : la limite du serveur.
account-label = Nom affiché
account-label-help = Le nom affiché dans la barre latérale et à côté de chaque message.
account-colour = Couleur
colour-blue = Bleu
colour-green = Vert
colour-red = Rouge
colour-orange = Orange
colour-purple = Violet
colour-teal = Bleu canard
colour-pink = Rose
colour-grey = Gris
test-connection = Tester la connexion
account-add-submit = Ajouter le compte
sign-in-with = Se connecter avec { $provider }
sign-in-again-with = Se reconnecter avec { $provider }
sign-in-instead = Se connecter plutôt avec { $provider }
sign-in-no-password = Pas de mot de passe ici : { $provider } vous demande de vous connecter et d'autoriser Tributary à relever et envoyer le courrier de cette boîte.
oauth-continue-help = { $provider } va vous demander de vous connecter en tant que { $email } et d'autoriser Tributary à relever et envoyer le courrier de cette boîte. Tributary ne voit jamais votre mot de passe { $provider } : il ne garde que l'autorisation que { $provider } lui donne, chiffrée, et vous pouvez la retirer chez { $provider } à tout moment.
oauth-continue = Continuer vers { $provider }
oauth-continue-once = Ce lien ne sert qu'une fois, dans les 15 minutes.

## Tester la connexion

test-ok-secure = de façon sécurisée ({ $version })
test-ok-plain = SANS chiffrement
test-no-features = aucune annoncée
test-ok = Connecté { $connected } et authentifié. { $count } { $count ->
    [one] message attend
   *[other] messages attendent
} sur le serveur ({ $size }). Fonctions du serveur : { $features }.
test-starttls-offered = Le serveur propose STARTTLS : passez-y, pour que le mot de passe et votre courrier soient chiffrés en chemin.
test-use-starttls = Passer à STARTTLS et tester à nouveau
test-failed = Le test a échoué : { $problem }
cert-heading = Le certificat du serveur
cert-new-heading = Le nouveau certificat du serveur
cert-fingerprint = Empreinte SHA-256
cert-subject = Délivré à
cert-issuer = Délivré par
cert-valid = Validité
cert-names = Noms
cert-help-before = Ne lui faites confiance que si cette empreinte est celle que donne l'administrateur de votre serveur (sur le serveur :{" "}
cert-help-after = ). Tributary acceptera alors exactement ce certificat, et mettra le compte en pause s'il change un jour.
cert-help-after-changed = ). Tributary acceptera alors exactement ce certificat au lieu de l'ancien, et mettra le compte en pause s'il change un jour.
cert-trust = Faire confiance à ce certificat
cert-trust-new = Faire confiance au nouveau certificat

## Historique

runs-heading = Vérifications récentes
runs-none = Pas encore vérifié.
runs-started = Début
runs-why = Pourquoi
runs-result = Résultat
runs-new = Nouveaux
runs-size = Taille
runs-skipped = Ignorés
runs-details = Détails
trigger-manual = Relève demandée
trigger-schedule = Planifiée
outcome-success = OK
outcome-partial = En partie
outcome-running = En cours
outcome-auth-error = Mot de passe refusé
outcome-temporary-error = Problème passager
outcome-permanent-error = Échec
outcome-cancelled = Interrompue
skipped-heading = Ignorés car trop gros
skipped-none = Aucun.
skipped-help = Ils restent sur le serveur. Relevez la limite de taille ci-dessus pour les récupérer à la prochaine vérification.
skipped-uidl = Identifiant sur le serveur
skipped-noticed = Repéré

## Supprimer un compte

account-remove-title = Supprimer { $label }
account-remove-heading = Supprimer « { $label } » ?
account-remove-help = Tributary cessera de relever cette boîte. Rien ne change sur le serveur de messagerie lui-même.
account-remove-fetched = { $count ->
    [one] Le message déjà relevé
   *[other] Les { $count } messages déjà relevés
}
account-remove-keep = Les garder dans ma boîte de réception
account-remove-delete = Les supprimer aussi de Tributary
account-remove-submit = Supprimer le compte

## Paramètres

settings-title = Paramètres
settings-heading = Langue et fuseau horaire
settings-language-link = Langue et fuseau horaire
settings-password-link = Changer votre mot de passe Tributary
settings-tokens-link = Jetons d'API
settings-saved = Vos paramètres sont enregistrés.
settings-language = Langue
settings-language-browser = Comme le demande mon navigateur
settings-time-zone = Fuseau horaire
settings-time-zone-browser = Comme l'indique mon navigateur ({ $zone })
settings-time-zone-help = Les dates et heures sont affichées dans ce fuseau. Il est { $now }.
settings-unknown-zone = Ce fuseau horaire est inconnu.
password-title = Changer le mot de passe
password-heading = Changer votre mot de passe
password-help = Le changer vous déconnecte sur tous les autres appareils.
password-done = Votre mot de passe a été changé.
password-current = Mot de passe actuel
password-new = Nouveau mot de passe
password-new-repeat = Répétez le nouveau mot de passe
password-min = Au moins { $count } { $count ->
    [one] caractère
   *[other] caractères
}.

## API tokens

tokens-help-before = Les scripts utilisent un jeton pour accéder à l'{" "}
tokens-help-api = API REST
tokens-help-as-you = {" "}en votre nom :{" "}
tokens-help-scopes = Un jeton de lecture ne peut que lire vos comptes et votre courrier ; un jeton d'écriture peut aussi les modifier.
tokens-new = Votre nouveau jeton — copiez-le maintenant, il n'est affiché que cette fois :
tokens-name = Nom
tokens-scope = Portée
tokens-created = Créé
tokens-last-used = Dernière utilisation
tokens-revoked = Révoqué
tokens-revoke = Révoquer
tokens-create-heading = Créer un jeton
tokens-name-example = script de sauvegarde
tokens-name-help = Pour le reconnaître plus tard.
tokens-scope-read = Lecture — lister les comptes, lire le courrier
tokens-scope-write = Écriture — aussi ajouter, modifier et supprimer
tokens-create = Créer le jeton

## API token rows

scope-read = lecture
scope-write = écriture
tokens-never = jamais

## Sent and drafts

outbox-state-draft = Brouillon
outbox-state-sending = Envoi en cours…
outbox-state-sent = Envoyé
outbox-state-failed = Non envoyé
outbox-state-uncertain = Peut-être envoyé
notice-queued = Votre message est en route.
notice-resent = Le message va être envoyé à nouveau.
notice-draft-deleted = Le brouillon a été supprimé.
outbox-no-drafts = Aucun brouillon.
outbox-nothing-sent = Rien n'a encore été envoyé.
outbox-to = à { $to }
outbox-open = Ouvrir
outbox-edit = Modifier
outbox-send-again = Envoyer à nouveau

## Sent and drafts, deleting

outbox-delete = Supprimer

## Writing a message

compose-new = Nouveau message
compose-reply-all = Répondre à tous
notice-draft-saved = Brouillon enregistré.
compose-cannot-send = Aucun de vos comptes ne peut encore envoyer de courrier. POP3 ne fait que télécharger le courrier : pour envoyer, chaque compte a aussi besoin du serveur SMTP de son fournisseur.
compose-first = {" "}d'abord.
compose-set-up-sending = Configurer l'envoi pour { $label }
compose-to-example = nom@example.org, Quelqu'un <quelquun@example.net>
compose-bcc = Cci
compose-bcc-help = Les destinataires en Cci reçoivent le message sans que les autres les voient.
compose-subject = Objet
compose-body = Message
compose-body-help = Texte simple. Votre signature est ajoutée à l'envoi.
compose-forward-files = Les pièces jointes du message transféré
compose-include-them = Les inclure
compose-attach-whole = Joindre plutôt tout le message d'origine
compose-leave-out = Les laisser de côté
compose-original = Le message d'origine
compose-quote = Le citer dans le texte
compose-also-attach = Le joindre aussi en fichier
compose-attached = Joints
compose-attach = Joindre des fichiers
compose-send = Envoyer
compose-save-draft = Enregistrer le brouillon

## Administration

admin-role = Rôle
admin-status = État
admin-actions = Actions
admin-you = vous
admin-administrator = Administrateur
admin-user = Utilisateur
admin-disabled = Désactivé
admin-active = Actif
admin-enable = Activer
admin-disable = Désactiver
admin-new-password-for = Nouveau mot de passe pour { $email }
admin-reset = Réinitialiser le mot de passe
admin-add-heading = Ajouter un utilisateur
admin-password-help = Au moins { $count } caractères ; communiquez-le à la personne, qui pourra le changer dans les Paramètres.
admin-is-admin = Administrateur (peut gérer les utilisateurs)
admin-add = Ajouter l'utilisateur

## Sending mail as an account

sending-help = POP3 ne fait que télécharger le courrier. Pour répondre depuis cette adresse, Tributary envoie par le serveur SMTP de votre fournisseur, en s'y connectant comme le ferait votre logiciel de messagerie. La plupart des fournisseurs utilisent les mêmes identifiant et mot de passe que pour POP3.
sending-look = L'apparence de vos messages
sending-name = Votre nom
sending-from = Adresse d'expédition
sending-reply-to = Adresse de réponse (facultative)
sending-signature = Signature (facultative)
sending-server-legend = Serveur d'envoi (SMTP)
sending-detect = Trouver mon serveur
sending-detect-help = Interroge le domaine de l'adresse d'expédition (DNS, puis les noms habituels sur les ports 465 et 587). N'enregistre rien.
sending-server = Serveur
sending-tls = TLS (port 465, recommandé)
sending-starttls = STARTTLS, obligatoire (port 587)
sending-plain = Aucune — mot de passe envoyé en clair (dangereux)
sending-login-legend = Se connecter avec
sending-login-pop3 = Les mêmes identifiant et mot de passe que pour POP3
sending-login-own = Un autre identifiant :
sending-username = Identifiant SMTP
sending-password = Mot de passe SMTP
sending-password-keep = Laissez vide pour garder celui qui est enregistré.
sending-self-hosted = Serveur auto-hébergé : faire confiance à son certificat
sending-ca = Autorité de certification (PEM)
sending-pin = Ou épingler le certificat (SHA-256)
sending-save-test = Enregistrer et tester l'envoi
sending-try = Tester sans enregistrer
sending-save = Enregistrer
sending-remove = Ne plus envoyer depuis ce compte

## Sign-in, set-up and server detection

login-expired = Le formulaire de connexion avait expiré. Veuillez réessayer.
login-throttled = Trop de connexions manquées. Attendez { $count } { $count ->
    [one] seconde
   *[other] secondes
}, puis réessayez.
login-wrong = Cette adresse e-mail et ce mot de passe ne correspondent pas.
login-disabled = Cet utilisateur est désactivé. Adressez-vous à votre administrateur.
password-differ = Les deux nouveaux mots de passe diffèrent.
password-wrong = Le mot de passe actuel est faux.
setup-wrong-code = Ce code de mise en service est faux. Copiez-le depuis le journal du serveur.
setup-differ = Les deux mots de passe diffèrent.
found-server = { $host } trouvé sur le port { $port } ({ $security }) — { $source }.
found-tls = connexion sécurisée
found-starttls = passée en connexion sécurisée avec STARTTLS
found-plain = NON chiffrée
found-source-list = d'après la liste des fournisseurs de Tributary
found-source-srv = annoncé par le domaine (enregistrement DNS SRV)
found-source-srv-untested = annoncé par le domaine (enregistrement DNS SRV), mais il n'a pas réussi à l'instant un test avec un certificat reconnu publiquement
found-source-probe = trouvé en essayant les noms de serveur habituels

## Erreurs des serveurs de courrier et du réseau (en minuscules : ce sont des parties de
## phrase ; affichées seules, la première lettre passe en majuscule)
phase-connect = la connexion
phase-tls = la négociation TLS
phase-read = l'attente du serveur
phase-write = l'envoi au serveur
phase-session = la session entière
phase-greeting = l'attente de l'accueil du serveur
phase-answer-to = l'attente de la réponse à { $command }
phase-message = l'envoi du message
phase-final-reply = l'attente de l'acceptation du message par le serveur
io-refused = le serveur a refusé la connexion
io-reset = la connexion a été réinitialisée
io-unreachable = le réseau ou le serveur est injoignable
io-timeout = le délai de connexion est dépassé
io-closed = la connexion a été fermée
io-other = { $problem }
date-unknown = une date inconnue
duration-seconds = { $count ->
    [one] { $count } seconde
   *[other] { $count } secondes
}
duration-minutes = { $count ->
    [one] { $count } minute
   *[other] { $count } minutes
}
connect-address-refused = l'adresse de ce serveur n'est pas autorisée : elle pointe vers un réseau privé ou local
connect-unresolved = le nom du serveur est introuvable
connect-no-addresses = le nom du serveur n'a aucune adresse
connect-timeout = délai dépassé pendant la connexion au serveur
connect-failed = impossible de se connecter au serveur : { $problem }
mail-connection-failed = la connexion a échoué : { $problem }
mail-timed-out = délai dépassé pendant { $phase }
mail-tls-error = erreur TLS : { $problem }
mail-stls-refused = le serveur a refusé STARTTLS : { $server }
mail-plaintext-refused = Tributary refuse d'envoyer les identifiants sur une connexion non chiffrée (choisissez TLS ou STARTTLS)
mail-line-too-long = le serveur a envoyé une ligne de plus de { $count } octets
pop3-network = erreur réseau : { $problem }
pop3-closed = le serveur a fermé la connexion de façon inattendue
pop3-stls-not-offered = le serveur ne propose pas STARTTLS (STLS) ; Tributary refuse de continuer sans chiffrement
pop3-protocol = le serveur ne parle pas POP3 comme prévu : { $problem }
pop3-too-many = le serveur a envoyé plus de { $count } entrées de liste
pop3-auth = le serveur a refusé la connexion du compte : { $server }
pop3-in-use = la boîte aux lettres est utilisée par une autre session : { $server }
pop3-login-delay = le serveur demande d'attendre avant de se reconnecter : { $server }
pop3-sys-temp = problème temporaire du serveur : { $server }
pop3-sys-perm = problème permanent du serveur : { $server }
pop3-unsupported = le serveur ne propose pas { $feature }
pop3-command-failed = { $command } a échoué : { $server }
smtp-network = erreur réseau pendant { $phase } : { $problem }
smtp-closed = le serveur a fermé la connexion pendant { $phase }
smtp-stls-not-offered = le serveur ne propose pas STARTTLS ; Tributary refuse de continuer sans chiffrement
smtp-protocol = le serveur ne parle pas SMTP comme prévu : { $problem }
smtp-auth-unsupported = le serveur ne propose pas la connexion { $feature }
smtp-auth = le serveur a refusé la connexion ({ $code }) : { $server }
smtp-rejected = le serveur a refusé { $command } ({ $code }) : { $server }
smtp-recipient-rejected = le serveur a refusé le destinataire { $recipient } ({ $code }) : { $server }
smtp-too-large = le message fait { $size } octets ; le serveur en accepte au plus { $limit }
smtp-bad-envelope = { $address } ne peut pas servir d'adresse d'enveloppe
smtp-no-recipients = le message n'a aucun destinataire
smtp-no-smtputf8 = une adresse contient des caractères non ASCII avant le @ et le serveur ne les accepte pas (pas de SMTPUTF8)
smtp-maybe-sent = le message a peut-être été envoyé : { $problem }
tls-timeout = délai dépassé pendant la négociation TLS
tls-pin-malformed = une empreinte SHA-256 compte 64 chiffres hexadécimaux (deux-points permis)
tls-setup-failed = TLS ne peut pas être mis en place : { $problem }
tls-ca-not-pem = l'autorité (CA) personnalisée n'est pas un PEM valide : { $problem }
tls-ca-unusable = l'autorité (CA) personnalisée est inutilisable : { $problem }
tls-ca-empty = l'autorité (CA) personnalisée ne contient aucun certificat
tls-trust-unusable = les certificats de confiance sont inutilisables : { $problem }
tls-bad-server-name = « { $host } » n'est pas un nom de serveur valide
tls-closed = le serveur a fermé la connexion pendant la négociation TLS
tls-not-tls = le serveur n'a pas répondu en TLS — ce port attend peut-être STARTTLS ou aucun chiffrement (995 est POP3 sur TLS, 110 est STARTTLS)
tls-no-common-version = le serveur ne propose aucune version ou suite TLS que Tributary accepte (TLS 1.2 ou 1.3 est nécessaire ; le serveur ne propose peut-être que des versions dépassées)
tls-failed = la négociation TLS a échoué : { $problem }
cert-pin-changed = le certificat du serveur a changé : ce n'est plus le certificat épinglé pour ce compte (il est maintenant SHA-256 { $fingerprint }) — examinez le nouveau certificat avant de lui faire confiance
cert-refused = le certificat du serveur a été refusé : { $problem }
cert-untrusted = le certificat du serveur n'est pas signé par une autorité à laquelle Tributary fait confiance (il est auto-signé, ou signé par une autorité privée) — collez le certificat du serveur comme autorité (CA) du compte, ou faites-lui confiance par son empreinte
cert-wrong-name = le certificat du serveur n'est pas celui de { $host }
cert-names-other = le certificat est pour { $names }, pas pour { $host } — utilisez le nom de serveur que le certificat indique
cert-no-names = le certificat du serveur ne nomme aucun hôte, il n'est donc pas celui de { $host }
cert-expired-on = le certificat du serveur a expiré le { $date } — son administrateur doit le renouveler
cert-expired = le certificat du serveur a expiré — son administrateur doit le renouveler
cert-not-yet-from = le certificat du serveur n'est valable qu'à partir du { $date } — vérifiez l'horloge de cette machine et celle du serveur
cert-not-yet = le certificat du serveur n'est pas encore valable — vérifiez l'horloge de cette machine et celle du serveur
cert-revoked = le certificat du serveur a été révoqué
cert-bad-signature = la signature du certificat du serveur n'est pas valable
cert-not-for-server = le certificat du serveur n'est pas destiné à un serveur
cert-unreadable = le certificat du serveur est illisible
oauth-not-configured = la connexion avec { $provider } n'est plus configurée sur ce Tributary (l'administrateur définit TRIBUTARY_OAUTH_*)
oauth-refused = { $provider } n'accepte plus cette connexion ({ $code }) — reconnectez-vous
oauth-unreachable = le fournisseur de connexion est injoignable : { $problem }
oauth-unusable = la réponse du fournisseur de connexion est inutilisable : { $problem }
oauth-store = Tributary n'a pas pu lire la connexion pour l'instant ; il réessaiera
keys-unreadable = la clé maîtresse est illisible : { $problem }

## Comment une vérification d'un compte s'est terminée
fetch-login-rejected = Le serveur a refusé le nom d'utilisateur ou le mot de passe — mettez à jour le mot de passe pour reprendre la vérification de ce compte. Le serveur a dit : { $server }
fetch-mailbox-suspended = Le serveur signale un problème permanent avec cette boîte ; la vérification est suspendue jusqu'à ce que vous modifiiez le compte. Le serveur a dit : { $server }
fetch-not-saved = Tributary n'a pas pu enregistrer le courrier pour l'instant ; il réessaiera.
fetch-keys-later = Tributary ne peut pas lire sa clé maîtresse pour l'instant ; il réessaiera (l'administrateur doit vérifier le fichier de clé).
fetch-password-unreadable = le mot de passe enregistré ne peut pas être déchiffré avec la clé maîtresse actuelle — saisissez à nouveau le mot de passe
fetch-settings-invalid = les réglages du compte ne sont pas valables : { $problem }
fetch-run-timed-out = la vérification a duré plus de { $limit } et a été arrêtée ; le courrier déjà enregistré est conservé et le reste viendra à la prochaine vérification
fetch-token-refused = le serveur a refusé le jeton de connexion — reconnectez-vous ; le serveur a dit : { $server }
settings-bad-port = port { $port } non valable
settings-password-account = le compte se connecte avec un mot de passe
run-lease-lost = la vérification s'est arrêtée car son bail n'a pas pu être renouvelé
run-shutting-down = la vérification s'est arrêtée car Tributary s'arrêtait
run-worker-stopped = le processus de vérification s'est arrêté pendant cette vérification
run-refused-messages = { $count ->
    [one] Le serveur a refusé d'envoyer { $count } message ; il sera redemandé.
   *[other] Le serveur a refusé d'envoyer { $count } messages ; ils seront redemandés.
}
run-quit-unconfirmed = Le serveur n'a pas confirmé la fin de la session : les messages à supprimer là-bas y restent jusqu'à la prochaine vérification.

## Ce qu'un formulaire ou une requête a de faux (parties de phrase : « Vérifiez le champ : … »)
invalid-password-missing = saisissez le mot de passe de la boîte aux lettres
invalid-password-line-break = un mot de passe POP3 ne peut pas contenir de saut de ligne
invalid-host-missing = saisissez le nom d'hôte du serveur, par exemple pop.example.org
invalid-host-characters = un nom d'hôte ne contient que des lettres, des chiffres, des points et des tirets (ou c'est une adresse IP)
invalid-text = trop long ou contient des caractères de contrôle
invalid-ca-too-large = le certificat est trop grand
invalid-trust-both = choisissez soit une autorité (CA) personnalisée, soit un certificat épinglé, pas les deux
invalid-port = doit être compris entre 1 et 65535
invalid-username = saisissez le nom d'utilisateur attendu par le serveur
invalid-password-with-provider = ce compte se connecte avec son fournisseur ; il n'a pas de mot de passe à saisir
invalid-poll-minutes = doit être compris entre 1 et 1440 minutes
invalid-max-bytes = doit être d'au moins 1024 octets
invalid-delete-days-missing = obligatoire avec delete_after_days
invalid-delete-days-range = le nombre de jours doit être compris entre 1 et 3650
invalid-color = attendu : # et six chiffres hexadécimaux, par exemple #3b6fd4
invalid-add-by-sign-in = un compte qui se connecte avec son fournisseur s'ajoute en se connectant (« Se connecter avec … » sur le web, ou POST /api/v1/accounts/sign-in)
invalid-use-sign-in = utilisez « Se connecter avec … » pour vous connecter avec le fournisseur
invalid-password-was-provider = saisissez le mot de passe de la boîte aux lettres : jusqu'ici, le compte se connectait avec son fournisseur
invalid-sign-in-first = connectez-vous d'abord avec le fournisseur
invalid-no-provider-client = la connexion avec un fournisseur n'est pas configurée pour cette adresse sur ce Tributary (l'administrateur l'enregistre avec TRIBUTARY_OAUTH_*)
invalid-sign-in-unreadable = le compte de la connexion ne peut pas être relu
invalid-smtp-username-missing = saisissez le nom d'utilisateur SMTP qui va avec ce mot de passe
invalid-no-recipient = ajoutez au moins un destinataire
invalid-subject-control = les sauts de ligne et les caractères de contrôle ne sont pas permis dans l'objet
invalid-subject-long = l'objet est trop long
invalid-body-nul = le texte contient un caractère NUL
invalid-reply-unknown = le message auquel vous répondez n'est pas enregistré ici
invalid-smtp-password-missing = saisissez le mot de passe de ce nom d'utilisateur SMTP
invalid-choose-account = choisissez le compte d'envoi
invalid-choose-security = choisissez comment la connexion est protégée
invalid-choose-auth = choisissez une méthode de connexion
invalid-port-number = un port est un nombre de 1 à 65535
invalid-paste-ca = collez le certificat de l'autorité (PEM)
invalid-paste-pin = collez l'empreinte SHA-256 du certificat
invalid-days-number = saisissez un nombre de jours
invalid-choose-leave = choisissez ce qui se passe sur le serveur
invalid-poll-too-often = { $provider } bloque les comptes vérifiés plus souvent que toutes les { $count } minutes : choisissez { $count } ou plus
invalid-too-many-recipients = { $count } destinataires ; au plus { $limit } par message
address-control = les sauts de ligne et les caractères de contrôle ne sont pas permis dans les adresses
address-malformed = { $address } n'est pas une adresse e-mail (il faut un nom, un @ et un domaine)
address-local-part = { $address } : la partie avant le @ n'est pas valable
address-domain = { $address } : le domaine n'est pas valable
address-too-long = { $address } est trop longue pour une adresse e-mail

## Comment l'envoi d'un message s'est terminé
send-not-recorded = Tributary n'a pas pu enregistrer l'envoi pour l'instant ; il réessaiera
send-password-unreadable = le mot de passe SMTP enregistré ne peut pas être déchiffré avec la clé maîtresse actuelle — saisissez-le à nouveau
send-no-identity = le compte n'a pas de réglages d'envoi
send-no-account = le compte depuis lequel ce message devait partir a été supprimé
send-settings-invalid = les réglages d'envoi ne sont pas valables : { $problem }
send-uncertain = le message a peut-être été envoyé : le serveur l'a reçu en entier, mais { $problem } avant de dire s'il l'acceptait. Vérifiez auprès d'un destinataire (ou dans le dossier Envoyés du webmail du compte) avant de le renvoyer
send-stopped-after-handing-over = l'envoi s'est arrêté après que le message a été remis au serveur, avant sa réponse : il a peut-être été envoyé
invalid-minutes-number = saisissez un nombre de minutes
invalid-megabytes = saisissez un nombre de mégaoctets de 1 à 2048

## Les réglages d'envoi d'un compte
sending-saved = Enregistré. Ce compte peut maintenant envoyer du courrier.
sending-found = { $found } Enregistrez et testez l'envoi pour vous en assurer.
sending-not-found = Aucun serveur d'envoi SMTP n'a été trouvé automatiquement pour { $domain }. Saisissez le serveur qu'indique votre fournisseur (souvent smtp.{ $domain }, port 465).
sending-unencrypted = une connexion SANS chiffrement
sending-try-worked = Le test d'envoi a réussi : connexion établie via { $version }. Rien n'a été envoyé ni encore enregistré.
sending-retype-password = Saisissez à nouveau le mot de passe SMTP pour l'enregistrer.
sending-try-failed = Le test d'envoi a échoué (rien n'a été enregistré) : { $problem }
sending-test-worked = Enregistré. Le test d'envoi a réussi : connexion établie via { $version }. Rien n'a été envoyé.
sending-test-worked-unencrypted = Enregistré. Le test d'envoi a réussi, SANS chiffrement. Rien n'a été envoyé.
sending-test-failed = Enregistré, mais le test d'envoi a échoué : { $problem }

## Pages d'erreur
error-not-found = Introuvable
error-not-found-text = Il n'y a rien à cette adresse.
error-form-expired = Ce formulaire a expiré
error-form-expired-text = Le formulaire a été envoyé depuis une ancienne page ou depuis un autre site : rien n'a été modifié. Revenez en arrière, rechargez la page et réessayez.
error-bad-request = Requête incorrecte
error-conflict = Impossible pour l'instant
error-internal = Une erreur s'est produite
error-internal-text = Le serveur n'a pas pu terminer cette requête. L'erreur a été journalisée ; veuillez réessayer.
conflict-paused-by-you = Mis en pause par vous — reprenez le compte pour le vérifier
bad-request-form-incomplete = Le formulaire est arrivé incomplet ou mal formé. Revenez en arrière, rechargez la page et réessayez.
bad-request-message-form = Le formulaire du message est arrivé incomplet. Revenez en arrière et réessayez.
bad-request-mode = le mode est reply, all ou forward
bad-request-token-scope = choisissez lecture ou écriture
bad-request-page-link = ce lien de page est cassé
bad-request-action = action inconnue
bad-request-keep-mail = choisissez s'il faut garder le courrier
sign-in-provider-refused = Le fournisseur ne vous a pas connecté ({ $code }) ; rien n'a été enregistré. Recommencez depuis la page du compte pour réessayer.
sign-in-callback-only = Cette adresse ne sert qu'à la réponse du fournisseur à une connexion.
sign-in-unknown = Cette connexion est inconnue ou a expiré (chacune ne sert qu'une fois, dans les 15 minutes) — recommencez-la depuis la page du compte.
sign-in-other-user = Cette connexion a été commencée par un autre utilisateur de Tributary — connectez-vous à Tributary avec cet utilisateur, ou recommencez.
sign-in-other-session = Cette connexion a été commencée dans une autre session du navigateur — recommencez-la ici.
sending-no-identity = ce compte ne peut pas encore envoyer : configurez d'abord son serveur d'envoi (SMTP)
sending-too-large = le message fait { $size } octets ; au plus { $limit } peuvent être envoyés
sending-rate-limited = { $count ->
    [one] trop de messages envoyés au cours de la dernière heure ; réessayez dans { $count } minute
   *[other] trop de messages envoyés au cours de la dernière heure ; réessayez dans { $count } minutes
}
compose-no-recipients = ajoutez au moins un destinataire (À, Cc ou Cci)
compose-control = { $field } : les sauts de ligne et les caractères de contrôle ne sont pas permis
compose-attachment-name = le nom de pièce jointe { $name } n'est pas permis (pas de saut de ligne, de barre oblique ni de guillemet)
compose-content-type = { $value } n'est pas un type de contenu (type/sous-type)

## Ce qu'il faut faire chez un fournisseur connu avant de pouvoir relever son courrier
advice-outlook = Activez POP dans Outlook.com (Paramètres → Courrier → Transfert et IMAP → « Autoriser les appareils et les applications à utiliser POP »). Outlook.com n'accepte que la connexion Microsoft (OAuth2), pas de mot de passe.
advice-gmail = Activez POP dans Gmail (Paramètres → Voir tous les paramètres → Transfert et POP/IMAP → Activer POP) et connectez-vous avec un mot de passe d'application (Compte Google → Sécurité → Validation en deux étapes → Mots de passe des applications).
advice-yahoo = Créez un mot de passe d'application (Infos du compte Yahoo → Sécurité du compte → Générer un mot de passe d'application) et utilisez-le ici à la place de votre mot de passe Yahoo.
advice-aol = Créez un mot de passe d'application (Sécurité du compte AOL → Générer un mot de passe d'application) et utilisez-le ici à la place de votre mot de passe AOL.
advice-gmx = Autorisez d'abord l'accès par les logiciels de messagerie (réglages GMX → E-Mail → POP3/IMAP Abruf → « POP3 und IMAP Zugriff erlauben »).
advice-gmx-international = Autorisez d'abord l'accès par les logiciels de messagerie (réglages GMX → POP3 & IMAP → activer l'accès).
advice-web-de = Autorisez d'abord l'accès par les logiciels de messagerie (réglages WEB.DE → E-Mail → POP3/IMAP Abruf → « POP3 und IMAP Zugriff erlauben »). WEB.DE bloque les comptes vérifiés plus souvent que toutes les 15 minutes.
advice-orange = Connectez-vous avec le mot de passe de votre messagerie Orange (celui de la page web Mail Orange).
advice-free = Connectez-vous avec l'adresse complète et le mot de passe de votre messagerie Free ; le serveur d'envoi de Free demande les mêmes identifiants.
advice-la-poste = Autorisez d'abord les logiciels de messagerie (laposte.net → Paramètres → Comptes → « Autoriser l'accès POP/IMAP »).
advice-icloud = iCloud Mail ne propose pas POP3 (seulement IMAP) : Tributary ne peut donc pas le relever. Transférez-le plutôt vers une adresse que Tributary peut relever.

## L'assistant, l'écriture et les réponses
wizard-not-found = Aucun serveur POP3 n'a été trouvé automatiquement pour { $domain }. Saisissez le serveur qu'indique votre fournisseur (souvent pop.{ $domain }, port 995).
wizard-microsoft-not-set-up = La connexion Microsoft n'est pas configurée sur ce Tributary : l'administrateur doit d'abord l'enregistrer (README, « Sign-in with Microsoft and Google »).
wizard-whole-address = Saisissez l'adresse complète, par exemple nom@example.org.
compose-not-sent = Non envoyé : { $problem }. Votre message est conservé comme brouillon.
reply-someone = quelqu'un
reply-quote-header = Le { $date }, { $name } a écrit :
forward-separator = Message transféré
forward-line = { $name } : { $value }
forward-from = De
forward-date = Date
forward-subject = Objet
forward-to = À
forward-cc = Cc

## La connexion de chacun, et l'administration
user-email-missing = saisissez une adresse e-mail
user-email-too-long = cette adresse e-mail est trop longue
user-email-invalid = cela ne ressemble pas à une adresse e-mail (nom@example.org)
user-email-taken = un utilisateur avec cette adresse existe déjà
user-unknown = aucun utilisateur avec cette adresse
user-password-short = le mot de passe doit compter au moins { $count } caractères
user-password-long = le mot de passe doit compter au plus { $count } octets
admin-create-failed = Impossible de créer l'utilisateur : { $problem }.
admin-disable-self = Vous ne pouvez pas vous désactiver vous-même.
admin-user-disabled = { $email } est désactivé et déconnecté partout.
admin-user-enabled = { $email } peut de nouveau se connecter.
admin-password-reset = Le mot de passe de { $email } a été réinitialisé ; cette personne a été déconnectée partout.
admin-reset-failed = Impossible de réinitialiser le mot de passe : { $problem }.
