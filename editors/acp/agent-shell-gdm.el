;;; agent-shell-gdm.el --- gdm as an ACP agent in agent-shell (Emacs)  -*- lexical-binding: t; -*-

;; Load after agent-shell (https://github.com/xenodium/agent-shell, Emacs 29.1+), then
;; M-x agent-shell-gdm-start.  agent-shell starts `gdm acp' and talks ACP on its stdio; gdm's
;; settings come from the GDM_* environment.  Not tried here (agent-shell needs Emacs 29.1,
;; Debian 12 has 28.2); the same `gdm acp' is tested end to end with the SDK's client and acpx.

;;; Code:

(require 'agent-shell)

(defcustom agent-shell-gdm-acp-command '("gdm" "acp")
  "Command and arguments that start gdm as an ACP agent."
  :type '(repeat string)
  :group 'agent-shell)

(defcustom agent-shell-gdm-environment
  (agent-shell-make-environment-variables "GDM_MODEL" "openai/gpt-4.1"
                                          "GDM_TASK_BUDGET_USD" "2.0")
  "Environment of the gdm process (its settings; the API key variable comes from Emacs')."
  :type '(repeat string)
  :group 'agent-shell)

(defun agent-shell-gdm-make-agent-config ()
  "An agent-shell configuration for gdm."
  (agent-shell-make-agent-config
   :identifier 'gdm
   :mode-line-name "gdm"
   :buffer-name "gdm"
   :shell-prompt "gdm> "
   :shell-prompt-regexp "gdm> "
   :client-maker (lambda (buffer)
                   (agent-shell--make-acp-client :command (car agent-shell-gdm-acp-command)
                                                 :command-params (cdr agent-shell-gdm-acp-command)
                                                 :environment-variables agent-shell-gdm-environment
                                                 :context-buffer buffer))
   :install-instructions "pip install the gdm repository (see its README), so that `gdm' is on PATH."))

(defun agent-shell-gdm-start ()
  "Start an agent-shell talking to gdm."
  (interactive)
  (agent-shell--dwim :config (agent-shell-gdm-make-agent-config) :new-shell t))

(provide 'agent-shell-gdm)
;;; agent-shell-gdm.el ends here
