args: --users etc/users --login-delay 3600
setup:
    # pop3d's delay is an hour, me's own a minute; the last login was two
    # minutes ago, so me may log in, and CAPA then says me's minute.
    mkdir ../etc
    grep '^me:\$' "$POP3D_USERS" | sed 's/$/::login-delay=60/' > ../etc/users
    chmod 600 ../etc/users
    printf 'pop3d login 1\n%s\n' "$(($(date +%s) - 120))" > me/.pop3d.login

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
S: LOGIN-DELAY 60
S: IMPLEMENTATION pop3d
S: .
C: QUIT
S: +OK bye, 0 messages deleted

after:
    me/
    me/.pop3d.login
    me/1.eml
    me/2.eml
    me/3.eml
