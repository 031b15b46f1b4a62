args: --proxy-from proxy.example.org
rc: 100

# nothing sent, nothing answered
