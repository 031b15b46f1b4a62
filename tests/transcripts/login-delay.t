args: --login-delay 3600
setup:
    # A login to me's mailbox a moment ago.
    # A second ago: pop3d's time(2) is the kernel's coarse clock, which may
    # not have reached date's second yet, and a record ahead of it is none.
    printf 'pop3d login 1\n%s\n' "$(($(date +%s) - 1))" > me/.pop3d.login

S: +OK pop3d ready
@login me
S: -ERR [LOGIN-DELAY] too soon after the last login
C: STAT
S: -ERR command not valid in this state
C: QUIT
S: +OK bye

after:
    me/
    me/.pop3d.login
    me/1.eml
    me/2.eml
    me/3.eml
