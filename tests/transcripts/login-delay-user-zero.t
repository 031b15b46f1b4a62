args: --users etc/users --login-delay 3600
setup:
    # pop3d's delay is an hour, but me's own is none; a login a moment ago.
    mkdir ../etc
    grep '^me:\$' "$POP3D_USERS" | sed 's/$/::login-delay=0/' > ../etc/users
    chmod 600 ../etc/users
    # A second ago: pop3d's time(2) is the kernel's coarse clock, which may
    # not have reached date's second yet, and a record ahead of it is none.
    printf 'pop3d login 1\n%s\n' "$(($(date +%s) - 1))" > me/.pop3d.login

S: +OK pop3d ready
C: CAPA
S: +OK capability list follows
S: TOP
S: UIDL
S: USER
S: SASL PLAIN LOGIN
S: UTF8 USER
S: RESP-CODES
S: AUTH-RESP-CODE
S: PIPELINING
S: UID-PARAM
S: DELI
S: SLEE-WAKE
S: EXPIRE NEVER
S: LOGIN-DELAY 3600 USER
S: IMPLEMENTATION pop3d
S: .
@login me
S: +OK maildrop has 3 messages (454 octets)
C: CAPA
S: +OK capability list follows
S: TOP
S: UIDL
S: USER
S: SASL PLAIN LOGIN
S: UTF8 USER
S: RESP-CODES
S: AUTH-RESP-CODE
S: PIPELINING
S: UID-PARAM
S: DELI
S: SLEE-WAKE
S: EXPIRE NEVER
S: IMPLEMENTATION pop3d
S: .
C: QUIT
S: +OK bye, 0 messages deleted
